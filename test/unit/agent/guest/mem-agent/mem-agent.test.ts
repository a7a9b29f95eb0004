import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { Compaction } from "../../../../../agent/src/guest/mem-agent/compact.js";
import { MemAgent } from "../../../../../agent/src/guest/mem-agent/mem-agent.js";
import { Logger } from "../../../../../agent/src/log.js";
import { type FakeTree, fakeTree } from "../fake-tree.js";

let tree: FakeTree;
let agent: MemAgent | undefined;
afterEach(() => {
  agent?.stop();
  tree?.remove();
});

const log = Logger.create("critical", () => {});

function roots(t: FakeTree) {
  t.write({
    "proc/pressure/memory": "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
    "proc/meminfo": "MemFree: 1000 kB\n",
    "proc/pagetypeinfo": "",
    "cgroup/cgroup.controllers": "memory\n",
    "cgroup/ctr/memory.stat": "inactive_file 8192\n",
    "cgroup/ctr/memory.reclaim": "",
  });
  return { sys: t.path("sys"), proc: t.path("proc"), dev: t.path("dev"), cgroup: t.path("cgroup") };
}

describe("MemAgent", () => {
  it("runs memcg rounds on its timer once the period is set, and not while disabled", async () => {
    tree = fakeTree();
    agent = await MemAgent.start({ roots: roots(tree), parameters: { memcg_disable: true }, log });
    agent.setMemcg({ periodSecs: 1n });
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(readFileSync(tree.path("cgroup/ctr/memory.reclaim"), "utf8")).toBe("");
    agent.setMemcg({ disabled: false });
    expect(agent.memcg).toMatchObject({ disabled: false, periodSecs: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(readFileSync(tree.path("cgroup/ctr/memory.reclaim"), "utf8")).toBe("8192 swappiness=0");
  });

  it("runs one compaction at a time: a second request joins the running one", async () => {
    tree = fakeTree();
    let runs = 0;
    const compaction: Compaction = async () => {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 100));
      return { outcome: "done", ms: 100 };
    };
    agent = await MemAgent.start({
      roots: roots(tree),
      parameters: { compact_force_times: 0 },
      log,
      compaction,
    });
    const [a, b] = await Promise.all([agent.runCompact(), agent.runCompact()]);
    expect(a).toBe(b);
    expect(runs).toBe(1);
  });
});
