// cp -a: copies a root filesystem tree with owners, modes, times, links, device nodes and
// extended attributes (Node's fs.cp keeps none of owners, devices or xattrs), sharing blocks
// where the filesystem can (reflinks).
import { type RunOptions, runTool, type ToolResult } from "./run.js";

export function copyTreeArgs(from: string, to: string): string[] {
  return ["-a", "--reflink=auto", "--", `${from}/.`, to];
}

/** Copies the content of directory `from` into the existing directory `to`. */
export function copyTree(from: string, to: string, options: RunOptions = {}): Promise<ToolResult> {
  return runTool("cp", "copy a root filesystem tree", copyTreeArgs(from, to), options);
}
