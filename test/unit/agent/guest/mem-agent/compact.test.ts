import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import {
  type Compaction,
  Compactor,
  countFreeMovablePages,
} from "../../../../../agent/src/guest/mem-agent/compact.js";
import { defaultCompact } from "../../../../../agent/src/guest/mem-agent/config.js";
import { compactMemory } from "../../../../../agent/src/tools/compact-memory.js";
import { type FakeTree, fakeTree } from "../fake-tree.js";

let tree: FakeTree;
afterEach(() => tree?.remove());

const PAGETYPEINFO = `Page block order: 9
Pages per block:  512

Free pages count per migrate type at order       0      1      2      3
Node    0, zone      DMA, type    Unmovable      5      5      5      5
Node    0, zone      DMA, type      Movable      1      2      3      4
Node    0, zone   Normal, type      Movable     10      0      0      1

Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate
Node 0, zone      DMA            1            7            0            0            0
`;

function proc(t: FakeTree, memFreeKb: number, pagetypeinfo = PAGETYPEINFO): void {
  t.write({
    "proc/pressure/memory": "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
    "proc/meminfo": `MemTotal:        1000000 kB\nMemFree:         ${memFreeKb} kB\n`,
    "proc/pagetypeinfo": pagetypeinfo,
    "proc/sys/vm/compact_memory": "",
  });
}

function recorder(): { calls: string[]; compaction: Compaction } {
  const calls: string[] = [];
  return {
    calls,
    compaction: async (file, { timeoutMs }) => {
      calls.push(`${file} ${timeoutMs}`);
      return { outcome: "done", ms: 1 };
    },
  };
}

describe("counting free movable pages", () => {
  it("adds count × 2^order for orders below the limit, only on Movable rows", () => {
    expect(countFreeMovablePages(PAGETYPEINFO, 2)).toBe(1 + 2 * 2 + 10);
    expect(countFreeMovablePages(PAGETYPEINFO, 9)).toBe(1 + 4 + 12 + 32 + 10 + 8);
  });
});

describe("compaction round", () => {
  it("compacts when free movable pages grew by more than the threshold, then waits for more change", async () => {
    tree = fakeTree();
    proc(tree, 500_000);
    const { calls, compaction } = recorder();
    const c = new Compactor(tree.path("proc"), compaction);
    await c.start();
    const config = { ...defaultCompact, compactThreshold: 10, compactSecMax: 7 };
    expect(await c.round(config)).toMatchObject({ compacted: true, reason: "threshold reached" });
    expect(calls).toEqual([`${tree.path("proc/sys/vm/compact_memory")} 7000`]);
    expect(await c.round(config)).toMatchObject({
      compacted: false,
      reason: "too little changed since the previous compaction",
    });
    // MemFree fell by more than threshold pages (4 kB each): worth compacting again.
    proc(tree, 500_000 - 41 * 4);
    expect(await c.round(config)).toMatchObject({ compacted: true });
    expect(calls).toHaveLength(2);
  });

  it("forces a compaction after compact_force_times skipped rounds", async () => {
    tree = fakeTree();
    proc(tree, 500_000, "");
    const { calls, compaction } = recorder();
    const c = new Compactor(tree.path("proc"), compaction);
    const config = { ...defaultCompact, compactForceTimes: 2 };
    expect((await c.round(config)).compacted).toBe(false);
    expect((await c.round(config)).compacted).toBe(false);
    expect(await c.round(config)).toMatchObject({ compacted: true, reason: "forced" });
    expect(calls).toHaveLength(1);
  });
});

describe("compactMemory (the sh writer)", () => {
  it("writes 1 to the file", async () => {
    tree = fakeTree();
    proc(tree, 1);
    const run = await compactMemory(tree.path("proc/sys/vm/compact_memory"), {
      timeoutMs: 5000,
      signal: new AbortController().signal,
    });
    expect(run.outcome).toBe("done");
    expect(readFileSync(tree.path("proc/sys/vm/compact_memory"), "utf8")).toBe("1\n");
  });

  it("kills a writer that blocks past the time limit, and one that is stopped", async () => {
    tree = fakeTree();
    // A FIFO without a reader blocks the writer, as a long compaction does.
    execFileSync("mkfifo", [tree.path("blocked")]);
    const timedOut = await compactMemory(tree.path("blocked"), {
      timeoutMs: 200,
      signal: new AbortController().signal,
    });
    expect(timedOut.outcome).toBe("timed out");
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 100);
    const stopped = await compactMemory(tree.path("blocked"), { timeoutMs: 10_000, signal: stop.signal });
    expect(stopped.outcome).toBe("stopped");
    expect(stopped.ms).toBeLessThan(5000);
  });
});
