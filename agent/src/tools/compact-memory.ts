// The one external program the mem-agent runs: a shell that writes 1 to
// /proc/sys/vm/compact_memory. The write blocks for as long as the kernel compacts, and only a
// killed writer stops it early, so it cannot be done from the agent's own threads.
import { runProgram } from "./run.js";

export interface CompactionRun {
  /** "done", or why it was stopped. */
  outcome: "done" | "timed out" | "stopped" | "failed";
  exitCode?: number;
  ms: number;
}

/** Compacts all memory zones; stops (SIGKILL) after `timeoutMs` or when `signal` aborts. */
export async function compactMemory(
  file: string,
  options: { timeoutMs: number; signal: AbortSignal },
): Promise<CompactionRun> {
  const started = performance.now();
  const result = await runProgram("sh", ["-c", 'echo 1 > "$1"', "sh", file], {
    ...(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0 ? { timeoutMs: options.timeoutMs } : {}),
    signal: options.signal,
    killSignal: "SIGKILL",
    stdio: { stdin: "ignore" },
  });
  const ms = Math.round(performance.now() - started);
  if (result.timedOut) return { outcome: "timed out", ms };
  if (result.isCanceled) return { outcome: "stopped", ms };
  if (result.exitCode !== 0)
    return { outcome: "failed", ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}), ms };
  return { outcome: "done", ms };
}
