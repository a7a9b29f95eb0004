// xfs_growfs: grows a mounted XFS filesystem's data section to a number of filesystem blocks (or
// to the device). XFS cannot shrink.
import type { RunResult } from "./run.js";
import { runTool, type ToolOptions } from "./tool.js";

export function xfsGrowfsArgs(mountPoint: string, blocks?: bigint): string[] {
  return blocks === undefined ? ["-d", mountPoint] : ["-D", String(blocks), mountPoint];
}

export function xfsGrowfs(
  mountPoint: string,
  blocks?: bigint,
  options: ToolOptions = {},
): Promise<RunResult> {
  return runTool("xfs_growfs", xfsGrowfsArgs(mountPoint, blocks), { timeout: 300_000, ...options });
}
