// node: asks the agent bundle for its version before it is laid into the root.
import { type RunOptions, runTool, type ToolResult } from "./run.js";

export function agentVersion(bundle: string, options: RunOptions = {}): Promise<ToolResult> {
  return runTool("node", "read the agent's version", [bundle, "--version"], { timeout: 30_000, ...options });
}
