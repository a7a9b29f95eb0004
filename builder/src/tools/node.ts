// node: asks the agent bundle for its version before it is laid into the root, and a Node.js
// binary given with --node for its own version (which also proves it runs on this machine).
import { type RunOptions, runTool, type ToolResult } from "./run.js";

export function agentVersion(bundle: string, options: RunOptions = {}): Promise<ToolResult> {
  return runTool("node", "read the agent's version", [bundle, "--version"], { timeout: 30_000, ...options });
}

/** `process.version` as printed by the Node.js binary at `binary`. */
export function nodeVersion(binary: string, options: RunOptions = {}): Promise<ToolResult> {
  return runTool(binary, "run the Node.js binary given with --node", ["-p", "process.version"], {
    timeout: 30_000,
    ...options,
  });
}
