// resize2fs: grows a mounted ext2/3/4 filesystem online to the given size (or to the device).
import type { RunResult } from "./run.js";
import { runTool, type ToolOptions } from "./tool.js";

export function resize2fsArgs(device: string, bytes?: bigint): string[] {
  // Sizes with a K suffix are KiB; without a size resize2fs fills the device.
  return bytes === undefined ? [device] : [device, `${bytes / 1024n}K`];
}

export function resize2fs(device: string, bytes?: bigint, options: ToolOptions = {}): Promise<RunResult> {
  return runTool("resize2fs", resize2fsArgs(device, bytes), { timeout: 300_000, ...options });
}
