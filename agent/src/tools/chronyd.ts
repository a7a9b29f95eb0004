// chronyd, the guest's clock daemon, for an agent that is the guest's init: under systemd its
// unit starts it; as PID 1 nobody else would.
import { type RunResult, runProgram } from "./run.js";

/** The daemon's arguments: in the foreground (-d, so the agent supervises and reaps it), its
 * log on stderr with warnings and errors only (-L 1), with the given configuration. */
export function chronydArgs(config: string): string[] {
  return ["-d", "-L", "1", "-f", config];
}

/**
 * Runs chronyd until it ends, its log on `stderrFd` (the agent's console). It holds one of the
 * runner's slots for as long as it runs.
 */
export function runChronyd(binary: string, config: string, stderrFd: number): Promise<RunResult> {
  return runProgram(binary, chronydArgs(config), {
    stdio: { stdin: "ignore", stdout: "ignore", stderr: stderrFd },
  });
}
