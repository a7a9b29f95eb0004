// OOM kills inside containers, for GetOOMEvent. Each container's memory cgroup counts its OOM
// kills (v1: memory.oom_control "oom_kill", v2: memory.events "oom_kill" - not "oom", which
// also counts reclaim failures that killed nothing). Node cannot wait on v1's eventfd, so the
// counter is polled, and on v2 also watched with inotify; it is read a last time when the
// container's init exits, before its cgroup goes away, so a kill is not missed.
import { type FSWatcher, readFileSync, watch } from "node:fs";
import path from "node:path";
import { UnavailableError } from "../core/domain-error.js";
import type { Logger } from "../log.js";
import type { CgroupPaths } from "./cgroups.js";

const POLL_MS = 250;
/** As upstream: at most this many unread events are kept. */
const QUEUE_LIMIT = 100;

export class OomEvents {
  private readonly queue: string[] = [];
  private waiters: { resolve(id: string): void; reject(err: Error): void }[] = [];
  private closed = false;

  constructor(private readonly log: Logger) {}

  /** Starts watching a container's memory cgroup; returns a function that checks once more and stops. */
  watch(containerId: string, paths: CgroupPaths): () => void {
    const file = counterFile(paths);
    if (!file) {
      this.log.warn("no memory cgroup to watch for OOM kills", { container: containerId });
      return () => {};
    }
    let seen = readCounter(file);
    const check = () => {
      const now = readCounter(file);
      if (now > seen) {
        seen = now;
        this.push(containerId);
      }
    };
    const timer = setInterval(check, POLL_MS);
    timer.unref();
    let watcher: FSWatcher | undefined;
    if (file.endsWith("memory.events")) {
      try {
        watcher = watch(file, check);
        watcher.on("error", () => watcher?.close());
      } catch {
        // polling alone will do
      }
    }
    return () => {
      check();
      clearInterval(timer);
      watcher?.close();
    };
  }

  /** Waits for the next OOM kill and returns its container id. */
  next(signal: AbortSignal): Promise<string> {
    if (this.closed) return Promise.reject(sandboxGone());
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (id: string) => {
          signal.removeEventListener("abort", onAbort);
          resolve(id);
        },
        reject,
      };
      const onAbort = () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** DestroySandbox: every pending and later GetOOMEvent fails. */
  close(): void {
    this.closed = true;
    for (const w of this.waiters) w.reject(sandboxGone());
    this.waiters = [];
  }

  private push(containerId: string): void {
    this.log.warn("container OOM kill", { container: containerId });
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve(containerId);
      return;
    }
    if (this.queue.length >= QUEUE_LIMIT) this.queue.shift();
    this.queue.push(containerId);
  }
}

function counterFile(paths: CgroupPaths): string | undefined {
  const v1 = paths.v1.get("memory");
  if (v1) return path.join(v1, "memory.oom_control");
  return paths.unified ? path.join(paths.unified, "memory.events") : undefined;
}

function readCounter(file: string): number {
  try {
    const match = /^oom_kill\s+(\d+)$/m.exec(readFileSync(file, "utf8"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0; // the cgroup is gone
  }
}

const sandboxGone = () => new UnavailableError("the sandbox is being destroyed", { subject: "sandbox" });
