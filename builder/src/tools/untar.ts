// GNU tar, to unpack source tarballs (.tar.xz, .tar.gz, .tar.zst: tar picks the decompressor).
import { execa } from "execa";
import { requireTool } from "../util/host-tools.js";

export interface UntarResult {
  exitCode: number | undefined;
  timedOut: boolean;
  isCanceled: boolean;
  ok: boolean;
  stderr: string;
}

export async function untar(
  tarball: string,
  destDir: string,
  options: { cancelSignal?: AbortSignal; timeout?: number } = {},
): Promise<UntarResult> {
  const tar = requireTool("tar", "unpack the kernel source");
  if (/\.xz$/.test(tarball)) requireTool("xz", "unpack the kernel source");
  if (/\.zst$/.test(tarball)) requireTool("zstd", "unpack the kernel source");
  const result = await execa(
    tar,
    ["-xf", tarball, "-C", destDir, "--no-same-owner", "--no-same-permissions"],
    {
      reject: false,
      stdin: "ignore",
      cancelSignal: options.cancelSignal,
      timeout: options.timeout,
      cleanup: true,
      forceKillAfterDelay: 5000,
    },
  );
  return {
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    isCanceled: result.isCanceled,
    ok: result.exitCode === 0 && !result.timedOut && !result.isCanceled,
    stderr: result.stderr,
  };
}
