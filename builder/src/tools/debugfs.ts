// debugfs -w: edits inodes of an unmounted ext4 image. mkfs.ext4 -d copies each file's
// change time from the source tree, which nobody can set, so the builder rewrites all inode
// times (and, for trees that came from a tarball, owners, modes and device nodes) here.
import { type Tree, TYPE_BITS } from "../util/tree.js";
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

/** The debugfs commands that give every inode the tree's metadata and the fixed time. */
export function debugfsScript(tree: Tree, time: number, fromTar: boolean): string {
  const lines: string[] = [];
  for (const e of tree.entries) {
    if (e.type === "hardlink" || e.type === "socket") continue;
    const p = quotePath(`/${e.path}`);
    if (fromTar && (e.type === "char" || e.type === "block" || e.type === "fifo")) {
      lines.push(`rm ${p}`);
      const spec =
        e.type === "fifo" ? "p" : `${e.type === "char" ? "c" : "b"} ${e.rdevMajor ?? 0} ${e.rdevMinor ?? 0}`;
      lines.push(`mknod ${p} ${spec}`);
    }
    if (fromTar) {
      lines.push(`sif ${p} uid ${e.uid}`, `sif ${p} gid ${e.gid}`);
      if (e.type !== "symlink") {
        lines.push(`sif ${p} mode 0${(TYPE_BITS[e.type] | e.perm).toString(8)}`);
      }
    }
    for (const field of ["atime", "mtime", "ctime", "crtime"]) lines.push(`sif ${p} ${field} ${time}`);
  }
  for (const field of ["atime", "mtime", "ctime", "crtime"]) lines.push(`sif /lost+found ${field} ${time}`);
  return `${lines.join("\n")}\n`;
}
