// Waiting for a hot-plugged device: poll a probe until it finds the device, the hotplug timeout
// passes, or the RPC is cancelled. sysfs does not support inotify and the addon has no uevent
// socket, so polling it is; each probe is a few stat/readdir calls. A slow-path action (a PCI or
// SCSI rescan) runs once part-way through, and the timeout message says what was waited on, for
// how long, what was tried, and which setting changes the wait.
import { setTimeout as sleep } from "node:timers/promises";
import {
  CancelledError,
  type DomainError,
  RuntimeFailure,
  TimedOutError,
  toDomainError,
  withContext,
} from "../core/domain-error.js";

export interface WaitOptions {
  /** "the virtio-blk disk at PCI path 02/00 (/sys/devices/pci0000:00/0000:00:02.0/...)". */
  what: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** First poll interval; it doubles up to 200 ms. */
  intervalMs?: number;
  /** Runs once after `afterMs` if the device has not shown up; returns a note for the error. */
  nudge?: { afterMs: number; run: () => Promise<string | undefined> };
}

/** The advice every hotplug timeout ends with. */
export function hotplugHint(timeoutMs: number): string {
  return (
    `If the host is slow to hot-plug devices, raise agent.hotplug_timeout ` +
    `(seconds, on the guest kernel command line; now ${formatMs(timeoutMs)})`
  );
}

export async function waitFor<T>(probe: () => Promise<T | undefined>, options: WaitOptions): Promise<T> {
  const start = performance.now();
  const deadline = start + options.timeoutMs;
  let interval = options.intervalMs ?? 10;
  const notes: string[] = [];
  let nudged = options.nudge === undefined;
  for (;;) {
    if (options.signal?.aborted) throw stopped(options, options.signal.reason);
    const found = await probe();
    if (found !== undefined) return found;
    const now = performance.now();
    if (!nudged && now - start >= options.nudge!.afterMs) {
      nudged = true;
      const note = await options.nudge!.run();
      if (note) notes.push(`${note} after ${formatMs(now - start)}`);
      continue;
    }
    if (now >= deadline) {
      const tried = notes.length > 0 ? `; ${notes.join("; ")}, without result` : "";
      throw new TimedOutError(
        `timed out after ${formatMs(options.timeoutMs)} waiting for ${options.what}${tried}. ${hotplugHint(options.timeoutMs)}`,
      );
    }
    try {
      await sleep(Math.min(interval, Math.max(1, deadline - now)), undefined, { signal: options.signal });
    } catch {
      throw stopped(options, options.signal?.reason);
    }
    interval = Math.min(interval * 2, 200);
  }
}

/** The wait's end as the caller's deadline (timed out) or its going away (cancelled). */
function stopped(options: WaitOptions, reason: unknown): DomainError {
  const cause = toDomainError(reason ?? new Error("cancelled"));
  const message = `stopped waiting for ${options.what}: ${cause.message}`;
  return cause instanceof RuntimeFailure
    ? new CancelledError(message, { cause: reason })
    : withContext(cause, () => message);
}

export function formatMs(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0
    ? `${ms / 1000}s`
    : ms >= 1000
      ? `${(ms / 1000).toFixed(1)}s`
      : `${Math.round(ms)}ms`;
}
