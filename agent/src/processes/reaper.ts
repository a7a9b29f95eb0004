// Collects the exit status of every process that ends up as our child. The agent is a child
// subreaper (or PID 1), so container processes are re-parented to it once the OCI runtime
// exits; on SIGCHLD we waitpid() the pids we track. Orphans nobody tracks (processes left in a
// dead container's PID namespace) are reaped too, so no zombie stays behind. libuv reaps the
// children it spawned itself (the runtime, ip, mount...); a zombie is only taken as an orphan
// when two scans a poll phase apart still see it, by which time libuv has had its turn.
import type { Logger } from "../log.js";
import { native, type WaitStatus } from "../native/index.js";

const ORPHAN_SCAN_MS = 50;

export class Reaper {
  private readonly tracked = new Map<number, (status: WaitStatus) => void>();
  private scanTimer: NodeJS.Timeout | undefined;
  private suspects = new Set<number>();
  private readonly onSignal = () => this.collect();

  constructor(private readonly log: Logger) {
    process.on("SIGCHLD", this.onSignal);
  }

  /** Calls `onExit` once `pid` has exited (at once if it already has). */
  track(pid: number, onExit: (status: WaitStatus) => void): void {
    this.tracked.set(pid, onExit);
    this.collect();
  }

  untrack(pid: number): void {
    this.tracked.delete(pid);
  }

  get trackedCount(): number {
    return this.tracked.size;
  }

  close(): void {
    process.off("SIGCHLD", this.onSignal);
    clearTimeout(this.scanTimer);
  }

  private collect(): void {
    const n = native();
    for (const [pid, onExit] of this.tracked) {
      let status: WaitStatus | null;
      try {
        status = n.waitpid(pid);
      } catch (err) {
        // ECHILD: not (or no longer) our child; it cannot be waited for.
        this.log.warn("cannot wait for process; is the agent a subreaper?", { processPid: pid, error: err });
        this.tracked.delete(pid);
        onExit({ pid, exitCode: null, signal: null, status: 255 });
        continue;
      }
      if (!status) continue;
      this.tracked.delete(pid);
      onExit(status);
    }
    this.scheduleOrphanScan();
  }

  private scheduleOrphanScan(): void {
    if (this.scanTimer) return;
    this.scanTimer = setTimeout(() => {
      this.scanTimer = undefined;
      this.scanOrphans();
    }, ORPHAN_SCAN_MS);
    this.scanTimer.unref();
  }

  private scanOrphans(): void {
    const n = native();
    const zombies = new Set(n.zombieChildren().filter((pid) => !this.tracked.has(pid)));
    for (const pid of zombies) {
      if (!this.suspects.has(pid)) continue;
      try {
        const status = n.waitpid(pid);
        if (status) this.log.debug("reaped orphan", { processPid: pid, status: status.status });
      } catch {
        // already gone
      }
      zombies.delete(pid);
    }
    this.suspects = zombies;
    if (zombies.size) this.scheduleOrphanScan();
  }
}
