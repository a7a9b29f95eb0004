// ldd: the shared libraries a binary needs (checked against a guest root before the binary is
// laid into it).
import { type RunOptions, runTool, type ToolResult } from "./run.js";

export function listLibraries(binary: string, options: RunOptions = {}): Promise<ToolResult> {
  return runTool("ldd", "list the shared libraries of the --node binary", [binary], options);
}

/** Shared libraries (sonames, and the loader by its path) the binary needs, as ldd reports them. */
export function parseLdd(output: string): { sonames: string[]; loader?: string } {
  const sonames: string[] = [];
  let loader: string | undefined;
  for (const line of output.split("\n")) {
    const text = line.trim();
    if (!text || text.startsWith("linux-vdso") || text.startsWith("linux-gate")) continue;
    const mapped = /^(\S+) => /.exec(text);
    if (mapped) sonames.push(mapped[1]!);
    else if (text.startsWith("/")) loader = text.split(/\s/)[0];
  }
  return { sonames, ...(loader ? { loader } : {}) };
}
