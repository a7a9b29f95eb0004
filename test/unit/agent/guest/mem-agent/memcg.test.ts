import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { defaultMemcg } from "../../../../../agent/src/guest/mem-agent/config.js";
import { MemcgReclaimer } from "../../../../../agent/src/guest/mem-agent/memcg.js";
import { type FakeTree, fakeTree } from "../fake-tree.js";

let tree: FakeTree;
afterEach(() => tree?.remove());

const psi = (total: number) =>
  `some avg10=0.00 avg60=0.00 avg300=0.00 total=${total}\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n`;

function cgroupV2(t: FakeTree): void {
  t.write({
    "proc/pressure/memory": psi(0),
    "cgroup/cgroup.controllers": "memory\n",
    "cgroup/kubepods/cgroup.controllers": "memory\n",
    "cgroup/kubepods/pod1/ctr-a/memory.stat": "anon 100\ninactive_anon 40960\ninactive_file 81920\n",
    "cgroup/kubepods/pod1/ctr-a/memory.reclaim": "",
    "cgroup/kubepods/pod1/ctr-a/memory.pressure": psi(0),
    "cgroup/kubepods/pod1/ctr-b/memory.stat": "inactive_anon 0\ninactive_file 0\n",
    "cgroup/kubepods/pod1/ctr-b/memory.reclaim": "",
    "cgroup/system/cgroup.procs": "",
  });
}

describe("memcg reclaim round", () => {
  it("asks each leaf cgroup to reclaim its inactive file pages, without swap", async () => {
    tree = fakeTree();
    cgroupV2(tree);
    const r = new MemcgReclaimer(tree.path("cgroup"), tree.path("proc/pressure/memory"));
    await r.start();
    const report = await r.round(defaultMemcg);
    expect(report.skipped).toBeUndefined();
    expect(report.cgroups).toEqual([
      { cgroup: "kubepods/pod1/ctr-a", action: "reclaimed", bytes: 81920 },
      { cgroup: "kubepods/pod1/ctr-b", action: "skipped", detail: "nothing cold to reclaim" },
      { cgroup: "system", action: "skipped", detail: "the memory controller is not enabled here" },
    ]);
    expect(readFileSync(tree.path("cgroup/kubepods/pod1/ctr-a/memory.reclaim"), "utf8")).toBe(
      "81920 swappiness=0",
    );
  });

  it("includes inactive anonymous memory and swappiness_max when swap is allowed", async () => {
    tree = fakeTree();
    cgroupV2(tree);
    const r = new MemcgReclaimer(tree.path("cgroup"), tree.path("proc/pressure/memory"));
    await r.round({ ...defaultMemcg, swap: true, swappinessMax: 70 });
    expect(readFileSync(tree.path("cgroup/kubepods/pod1/ctr-a/memory.reclaim"), "utf8")).toBe(
      "122880 swappiness=70",
    );
  });

  it("skips the round when the guest was under memory pressure during the period", async () => {
    tree = fakeTree();
    cgroupV2(tree);
    const r = new MemcgReclaimer(tree.path("cgroup"), tree.path("proc/pressure/memory"));
    await r.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // 40 ms of stall in ~50 ms: far above the 1% limit.
    tree.write({ "proc/pressure/memory": psi(40_000) });
    const report = await r.round(defaultMemcg);
    expect(report.skipped).toMatch(
      /^memory pressure \d+\.\d% over the last period exceeds period_psi_percent_limit 1%$/,
    );
    expect(readFileSync(tree.path("cgroup/kubepods/pod1/ctr-a/memory.reclaim"), "utf8")).toBe("");
  });

  it("on cgroup v1 only applies the swappiness setting", async () => {
    tree = fakeTree();
    tree.write({
      "proc/pressure/memory": psi(0),
      "cgroup/memory/memory.swappiness": "60\n",
      "cgroup/memory/kata/memory.swappiness": "60\n",
    });
    const r = new MemcgReclaimer(tree.path("cgroup"), tree.path("proc/pressure/memory"));
    const report = await r.round({ ...defaultMemcg, swap: true, swappinessMax: 30 });
    expect(report.cgroups).toEqual([{ cgroup: "kata", action: "swappiness", detail: "30" }]);
    expect(readFileSync(tree.path("cgroup/memory/kata/memory.swappiness"), "utf8")).toBe("30");
    expect(readFileSync(tree.path("cgroup/memory/memory.swappiness"), "utf8")).toBe("60\n");
  });
});
