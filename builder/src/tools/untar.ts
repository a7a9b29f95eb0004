// GNU tar, to unpack source tarballs (.tar.xz, .tar.gz, .tar.zst: tar picks the decompressor).
import { requireTool } from "../util/host-tools.js";
import { type RunOptions, runTool, type ToolResult } from "./run.js";

export function untar(
  tarball: string,
  destDir: string,
  options: Pick<RunOptions, "cancelSignal" | "timeout"> = {},
): Promise<ToolResult> {
  // tar runs the decompressor: name its package when it is missing, not tar's.
  if (/\.xz$/.test(tarball)) requireTool("xz", "unpack the kernel source");
  if (/\.zst$/.test(tarball)) requireTool("zstd", "unpack the kernel source");
  return runTool(
    "tar",
    "unpack the kernel source",
    ["-xf", tarball, "-C", destDir, "--no-same-owner", "--no-same-permissions"],
    options,
  );
}
