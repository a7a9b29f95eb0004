// mkfs.ext4 / mkfs.xfs: a new, empty filesystem on a block device (the blk driver's
// create_filesystem option). Both overwrite whatever is there; the caller checks first.
import type { RunResult } from "./run.js";
import { runTool, type ToolOptions } from "./tool.js";

export const MKFS_FSTYPES = ["ext4", "ext3", "ext2", "xfs"] as const;
export type MkfsFstype = (typeof MKFS_FSTYPES)[number];

export function isMkfsFstype(fstype: string): fstype is MkfsFstype {
  return (MKFS_FSTYPES as readonly string[]).includes(fstype);
}

export function mkfsArgs(fstype: MkfsFstype, device: string): { file: string; args: string[] } {
  if (fstype === "xfs") return { file: "mkfs.xfs", args: ["-q", "-f", device] };
  // -F: do not ask questions about a whole-disk device; -q: quiet.
  return { file: `mkfs.${fstype}`, args: ["-q", "-F", device] };
}

export function mkfs(fstype: MkfsFstype, device: string, options: ToolOptions = {}): Promise<RunResult> {
  const { file, args } = mkfsArgs(fstype, device);
  return runTool(file, args, { timeout: 120_000, ...options });
}
