// mkfs.erofs: a compressed read-only filesystem image from a directory.
import { type RunOptions, runTool, type ToolResult } from "./run.js";

export interface ErofsRequest {
  image: string;
  source: string;
  uuid: string;
  /** Build time, also used as every inode's time (--ignore-mtime). */
  time: number;
  compression: string;
}

export function mkfsArgs(req: ErofsRequest): string[] {
  return [
    "--quiet",
    `-z${req.compression}`,
    "-Enoinline_data",
    `-T${req.time}`,
    "--ignore-mtime",
    `-U${req.uuid}`,
    req.image,
    req.source,
  ];
}

export function mkfsErofs(req: ErofsRequest, options: RunOptions = {}): Promise<ToolResult> {
  return runTool("mkfs.erofs", "create the erofs filesystem", mkfsArgs(req), options);
}
