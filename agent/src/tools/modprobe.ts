// modprobe: loads a kernel module with its parameters (CreateSandbox's kernel_modules). Callers
// check the name with isModuleName() first, so that it can never be read as an option.
import type { RunResult } from "./run.js";
import { runTool, type ToolOptions } from "./tool.js";

/** Module names as the kernel spells them: letters, digits, '_' and '-'. */
export function isModuleName(name: string): boolean {
  return /^[\w-]+$/.test(name);
}

export function modprobeArgs(name: string, parameters: readonly string[]): string[] {
  return ["-v", name, ...parameters];
}

export function modprobe(
  name: string,
  parameters: readonly string[],
  options: ToolOptions = {},
): Promise<RunResult> {
  return runTool("/sbin/modprobe", modprobeArgs(name, parameters), options);
}
