// qemu-img: a raw disk image converted to qcow2 (sparse, grows on write), the format QEMU users
// and most clouds take. The guest sees the same bytes, so the root hash and command line hold.
import { check, type RunOptions, runTool } from "./run.js";

const PURPOSE = "write qcow2 images";

export async function convertToQcow2(raw: string, qcow2: string, options: RunOptions = {}): Promise<void> {
  // -o compat=1.1: the current qcow2 version, read by every QEMU since 1.1.
  const result = await runTool(
    "qemu-img",
    PURPOSE,
    ["convert", "-q", "-f", "raw", "-O", "qcow2", "-o", "compat=1.1", raw, qcow2],
    options,
  );
  check(result, `qemu-img convert ${raw} to qcow2`);
}

export interface ImageInfo {
  format: string;
  virtualSize: number;
}

export async function imageInfo(path: string, options: RunOptions = {}): Promise<ImageInfo> {
  const result = check(
    await runTool("qemu-img", PURPOSE, ["info", "--output=json", path], options),
    `qemu-img info ${path}`,
  );
  const info = JSON.parse(result.stdout) as { format: string; "virtual-size": number };
  return { format: info.format, virtualSize: info["virtual-size"] };
}
