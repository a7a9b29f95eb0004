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

export interface ScriptOptions {
  /** Seconds since the epoch for every inode time. */
  time: number;
  /** The owners and modes come from tarball headers, not from the files mkfs copied. */
  fromTar: boolean;
  /**
   * Device nodes and FIFOs the tree lists that are not on disk (only root can make them, so
   * mkfs did not copy them): debugfs makes them.
   */
  missingNodes?: ReadonlySet<string>;
  /** A file holding each extended attribute's value to set, by `${path}\0${name}`. */
  xattrFiles?: ReadonlyMap<string, string>;
}

/** debugfs reads a bare number as a date in YYYYMMDD[HHMMSS] form; "@" marks seconds since the epoch. */
export function debugfsTime(seconds: number): string {
  return `@${Math.floor(seconds)}`;
}

/** The debugfs commands that give every inode the tree's metadata and the fixed time. */
export function debugfsScript(tree: Tree, options: ScriptOptions): string {
  const { fromTar, missingNodes, xattrFiles } = options;
  const time = debugfsTime(options.time);
  const lines: string[] = [];
  for (const e of tree.entries) {
    // A hard link is one more name of an inode set through its first name.
    if (e.type === "hardlink") continue;
    const p = quotePath(`/${e.path}`);
    if (missingNodes?.has(e.path)) {
      // mknod names its argument in the current directory, slashes and all: go there first.
      const slash = e.path.lastIndexOf("/");
      const spec =
        e.type === "fifo" ? "p" : `${e.type === "char" ? "c" : "b"} ${e.rdevMajor ?? 0} ${e.rdevMinor ?? 0}`;
      lines.push(
        `cd ${quotePath(`/${e.path.slice(0, Math.max(slash, 0))}`)}`,
        `mknod ${quotePath(e.path.slice(slash + 1))} ${spec}`,
        "cd /",
      );
    }
    if (fromTar) {
      lines.push(`sif ${p} uid ${e.uid}`, `sif ${p} gid ${e.gid}`);
      if (e.type !== "symlink") {
        lines.push(`sif ${p} mode 0${(TYPE_BITS[e.type] | e.perm).toString(8)}`);
      }
    }
    for (const name of Object.keys(e.xattrs ?? {}).sort()) {
      const file = xattrFiles?.get(`${e.path}\0${name}`);
      if (file) lines.push(`ea_set -f ${quotePath(file)} ${p} ${quotePath(name)}`);
    }
    for (const field of ["atime", "mtime", "ctime", "crtime"]) lines.push(`sif ${p} ${field} ${time}`);
  }
  for (const field of ["atime", "mtime", "ctime", "crtime"]) lines.push(`sif /lost+found ${field} ${time}`);
  return `${lines.join("\n")}\n`;
}
