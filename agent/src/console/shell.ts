// The debug console's shell: found as upstream's agent finds it (/bin/bash, else /bin/sh), started
// interactive as the leader of its own session with a terminal as its controlling tty, so that
// job control and ^C work as on any login.
import { accessSync, constants, statSync } from "node:fs";
import { native, type WaitStatus } from "../native/index.js";
import type { Reaper } from "../processes/reaper.js";

export const SHELLS = ["/bin/bash", "/bin/sh"] as const;

/** The first of `candidates` that is an executable file, or undefined. */
export function findShell(candidates: readonly string[] = SHELLS): string | undefined {
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return statSync(path).isFile();
    } catch {
      return false;
    }
  });
}

/**
 * The agent's environment for the shell, with a TERM when the agent has none (under systemd
 * it has none; without one, full-screen programs refuse to run).
 */
export function shellEnvironment(env: NodeJS.ProcessEnv = process.env): string[] {
  const merged: Record<string, string | undefined> = { TERM: "vt100", ...env };
  return Object.entries(merged)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${value}`);
}

export interface StartedShell {
  pid: number;
  /** Settles when the shell has exited (and been reaped). */
  exited: Promise<WaitStatus>;
}

/** Starts `shell -i` on the terminal `ttyFd` (the caller keeps and closes its own copy). */
export function startShell(shell: string, ttyFd: number, reaper: Reaper): StartedShell {
  const pid = native().spawnInSession(shell, [shell, "-i"], shellEnvironment(), ttyFd);
  const exited = new Promise<WaitStatus>((resolve) => reaper.track(pid, resolve));
  return { pid, exited };
}
