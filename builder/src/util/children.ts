// Our child processes, stopped synchronously: the interrupt handler must end a QEMU or mkfs it
// started before deleting the directory that child is still writing into (a QEMU that had just
// started created its console log and sockets again behind a recursive delete).
import { readdirSync, readFileSync } from "node:fs";
import { statFields } from "./proc-stat.js";

/** Pids whose parent is this process (zombies included). */
export function childPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const state = processState(Number(name));
    if (state?.ppid === process.pid) pids.push(Number(name));
  }
  return pids;
}

/** The state letter and parent pid of `pid`, or undefined once it is gone. */
function processState(pid: number): { state: string; ppid: number } | undefined {
  try {
    const [state = "", ppid = ""] = statFields(readFileSync(`/proc/${pid}/stat`, "utf8"));
    return { state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

const running = (pid: number) => {
  const s = processState(pid);
  return s !== undefined && s.state !== "Z" && s.state !== "X";
};

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** SIGTERM to every child, SIGKILL to those still running after `graceMs`; waits for them. */
export function stopChildrenSync(graceMs = 1000): void {
  const pids = childPids();
  const signalAll = (signal: NodeJS.Signals) => {
    for (const pid of pids.filter(running)) {
      try {
        process.kill(pid, signal);
      } catch {
        // gone already
      }
    }
  };
  const waitFor = (ms: number) => {
    for (const deadline = Date.now() + ms; Date.now() < deadline && pids.some(running); ) sleepSync(10);
  };
  signalAll("SIGTERM");
  waitFor(graceMs);
  signalAll("SIGKILL");
  waitFor(graceMs);
}
