// A process the agent runs in a container (the init process, or an exec): its pid, its streams,
// and its exit status once the reaper has collected it.

import { RuntimeFailure, UnavailableError } from "../core/domain-error.js";
import { native } from "../native/index.js";
import type { Streams } from "./stdio.js";

export class ContainerProcess {
  private status: number | undefined;
  private waiters: ((status: number) => void)[] = [];
  /** WaitProcess has returned its status; only unread output keeps the process around. */
  waited = false;

  constructor(
    readonly execId: string,
    readonly pid: number,
    readonly terminal: boolean,
    readonly streams: Streams,
  ) {}

  get exitStatus(): number | undefined {
    return this.status;
  }

  /** Called by the reaper: drain the output so nothing written before exit is lost, then wake waiters. */
  exited(status: number): void {
    if (this.status !== undefined) return;
    this.status = status;
    this.streams.stdin.processExited();
    this.streams.stdout.finish();
    this.streams.stderr?.finish();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(status);
  }

  /** Resolves with the exit status: the exit code, or 128 + signal number. */
  wait(signal: AbortSignal): Promise<number> {
    if (this.status !== undefined) return Promise.resolve(this.status);
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiters.push((status) => {
        signal.removeEventListener("abort", onAbort);
        resolve(status);
      });
    });
  }

  /** Settles with the exit status when the process exits (and never, while it runs). */
  whenExited(): Promise<number> {
    if (this.status !== undefined) return Promise.resolve(this.status);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Sends a signal; a process that is already gone is not an error (ESRCH). */
  kill(signal: number): void {
    if (this.status !== undefined) return;
    try {
      process.kill(this.pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ESRCH") {
        throw new RuntimeFailure(`kill(${this.pid}, ${signal}): ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
  }

  resizeTerminal(rows: number, columns: number): void {
    const master = this.streams.ptyMaster;
    if (!master) throw new UnavailableError("no tty");
    native().setWinsize(master(), rows, columns);
  }

  /** Every output stream has been read to its end. */
  get outputConsumed(): boolean {
    return this.streams.stdout.done && (this.streams.stderr?.done ?? true);
  }

  /** Releases the streams once nobody will read them again. */
  dispose(): void {
    this.streams.stdout.close();
    this.streams.stderr?.close();
    this.streams.stdin.close();
  }
}
