// One round of memory compaction, with upstream's rules: only when memory pressure over the last
// period was low, and only when enough has changed since the previous compaction (free movable
// pages in small orders grew, or MemFree fell, by compact_threshold pages) unless
// compact_force_times rounds were skipped in a row. A running compaction is stopped when
// pressure rises above compact_psi_percent_limit or after compact_sec_max seconds.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type CompactionRun, compactMemory } from "../../tools/compact-memory.js";
import type { CompactConfig } from "./config.js";
import { PsiWindow } from "./psi.js";

export interface CompactRoundReport {
  compacted: boolean;
  reason: string;
  run?: CompactionRun;
}

export type Compaction = typeof compactMemory;

export class Compactor {
  private readonly psi: PsiWindow;
  private forceCounter = 0;
  private prevMemFreeKb = 0;
  private prevFreeMovablePages = 0;

  constructor(
    private readonly proc: string,
    private readonly compaction: Compaction = compactMemory,
    private readonly pollMs = 1000,
  ) {
    this.psi = new PsiWindow(join(proc, "pressure/memory"));
  }

  async start(): Promise<void> {
    await this.psi.start();
  }

  async round(config: CompactConfig): Promise<CompactRoundReport> {
    const pressure = await this.psi.percent();
    if (pressure !== undefined && pressure > config.periodPsiPercentLimit) {
      this.forceCounter++;
      return {
        compacted: false,
        reason: `memory pressure ${pressure.toFixed(1)}% over the last period exceeds period_psi_percent_limit ${config.periodPsiPercentLimit}%`,
      };
    }
    const forced = this.forceCounter >= config.compactForceTimes;
    if (!forced) {
      const why = await this.worthCompacting(config);
      if (why === undefined) {
        this.forceCounter++;
        return { compacted: false, reason: "too little changed since the previous compaction" };
      }
    }
    const run = await this.runWatched(config);
    const [memFreeKb, freeMovable] = await Promise.all([
      this.memFreeKb(),
      this.freeMovablePages(config.compactOrder),
    ]);
    this.prevMemFreeKb = memFreeKb;
    this.prevFreeMovablePages = freeMovable;
    this.forceCounter = 0;
    return { compacted: run.outcome === "done", reason: forced ? "forced" : "threshold reached", run };
  }

  /** Why compaction is worth it now, or undefined. */
  private async worthCompacting(config: CompactConfig): Promise<string | undefined> {
    const memFreeKb = await this.memFreeKb();
    // compact_threshold is in pages; MemFree is in kB (4 kB pages).
    if (this.prevMemFreeKb > memFreeKb + config.compactThreshold * 4) return "MemFree fell";
    const freeMovable = await this.freeMovablePages(config.compactOrder);
    if (freeMovable > config.compactThreshold + this.prevFreeMovablePages) return "free movable pages grew";
    return undefined;
  }

  private async runWatched(config: CompactConfig): Promise<CompactionRun> {
    const stop = new AbortController();
    const watcher = new PsiWindow(join(this.proc, "pressure/memory"));
    await watcher.start();
    const timer = setInterval(() => {
      void watcher.percent().then((p) => {
        if (p !== undefined && p > config.compactPsiPercentLimit) stop.abort();
      });
    }, this.pollMs);
    try {
      return await this.compaction(join(this.proc, "sys/vm/compact_memory"), {
        timeoutMs: config.compactSecMax * 1000,
        signal: stop.signal,
      });
    } finally {
      clearInterval(timer);
    }
  }

  private async memFreeKb(): Promise<number> {
    const text = await readFile(join(this.proc, "meminfo"), "utf8").catch(() => "");
    return Number(/^MemFree:\s+(\d+)/m.exec(text)?.[1] ?? 0);
  }

  /** Free movable pages in blocks smaller than `order`, from /proc/pagetypeinfo (root only). */
  private async freeMovablePages(order: number): Promise<number> {
    const text = await readFile(join(this.proc, "pagetypeinfo"), "utf8").catch(() => "");
    return countFreeMovablePages(text, order);
  }
}

export function countFreeMovablePages(pagetypeinfo: string, order: number): number {
  let pages = 0;
  for (const line of pagetypeinfo.split("\n")) {
    const match = /\btype\s+Movable\s+(.*)$/.exec(line);
    if (!match) continue;
    (match[1] ?? "")
      .trim()
      .split(/\s+/)
      .forEach((count, o) => {
        if (o < order) pages += Number(count) * 2 ** o;
      });
  }
  return pages;
}
