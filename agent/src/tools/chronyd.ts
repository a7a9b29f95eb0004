// chronyd, the guest's clock daemon, for an agent that is the guest's init: under systemd its
// unit starts it; as PID 1 nobody else would.
import type { RunResult } from "./run.js";
import { spawnAndWait } from "./spawn.js";

/** The daemon's arguments: in the foreground (-d, so the agent supervises and reaps it), its
 * log on stderr with warnings and errors only (-L 1), with the given configuration. */
export function chronydArgs(config: string): string[] {
  return ["-d", "-L", "1", "-f", config];
}

/**
 * Runs chronyd until it ends, its log on `stderrFd` (the agent's console). Through the direct
 * spawn path (tools/spawn.ts): nothing of its output is read, it runs for the guest's life
 * (holding none of the shared runner's slots), and it starts right after the agent serves, where
 * loading the shared runner (execa) would cost start-up time and memory.
 */
export function runChronyd(binary: string, config: string, stderrFd: number): Promise<RunResult> {
  return spawnAndWait(binary, chronydArgs(config), {
    stdio: { stdin: "ignore", stdout: "ignore", stderr: stderrFd },
  });
}
