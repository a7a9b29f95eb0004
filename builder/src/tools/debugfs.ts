// debugfs -w: edits inodes of an unmounted ext4 image. mkfs.ext4 -d copies each file's
// change time from the source tree, which nobody can set, so the builder rewrites all inode
// times (and, for trees that came from a tarball, owners, modes and device nodes) here.
import { type RunOptions, runTool, type ToolResult } from "./run.js";

/** Quotes a path for debugfs's command parser (double quotes, "" for a literal quote). */
export function quotePath(path: string): string {
  if (/[\n\r]/.test(path))
    throw new Error(`path with a newline cannot be edited with debugfs: ${JSON.stringify(path)}`);
  return `"${path.replace(/"/g, '""')}"`;
}

export function runScript(
  image: string,
  script: string,
  time: number,
  options: RunOptions = {},
): Promise<ToolResult> {
  return runTool("debugfs", "set inode times and owners in the ext4 image", ["-w", "-f", "-", image], {
    ...options,
    input: script,
    env: { ...options.env, E2FSPROGS_FAKE_TIME: String(time) },
  });
}
