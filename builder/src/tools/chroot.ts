// chroot: runs a program of the root being built, as the guest will (its own libraries, its own
// paths), to ask it what it is.
import { type RunOptions, runTool, type ToolResult } from "./run.js";

export function runInRoot(
  root: string,
  argv: readonly string[],
  purpose: string,
  options: RunOptions = {},
): Promise<ToolResult> {
  // The host's Node.js settings mean nothing to the guest's node (and its certificates are not there).
  const env = { NODE_OPTIONS: undefined, NODE_EXTRA_CA_CERTS: undefined, ...options.env };
  return runTool("chroot", purpose, [root, ...argv], { timeout: 60_000, ...options, env });
}
