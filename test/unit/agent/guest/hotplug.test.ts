import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  onlineCpuCount,
  onlineCpus,
  onlineMemory,
  probeMemory,
} from "../../../../agent/src/guest/hotplug.js";
import { type FakeTree, fakeTree } from "./fake-tree.js";

let tree: FakeTree;
let kernel: NodeJS.Timeout | undefined;
afterEach(() => {
  clearInterval(kernel);
  tree?.remove();
});

const fast = { rounds: 20, intervalMs: 10 };

/** Plays the kernel: keeps cpu/online in step with the cpuN/online files, as sysfs does. */
function runFakeKernel(t: FakeTree): void {
  const cpuDir = t.path("devices/system/cpu");
  const sync = () => {
    const online = readdirSync(cpuDir)
      .filter((n) => /^cpu\d+$/.test(n))
      .filter((n) => {
        try {
          return readFileSync(join(cpuDir, n, "online"), "utf8").trim() === "1";
        } catch {
          return n === "cpu0"; // cpu0 has no online file: it cannot be unplugged
        }
      })
      .map((n) => Number(n.slice(3)))
      .sort((a, b) => a - b);
    writeFileSync(join(cpuDir, "online"), `${online.join(",")}\n`);
  };
  sync();
  kernel = setInterval(sync, 5);
}

describe("onlineCpus", () => {
  it("onlines offline CPUs until the count is reached, and only as many as needed", async () => {
    tree = fakeTree();
    tree.write({
      "devices/system/cpu/cpu0": null,
      "devices/system/cpu/cpu1/online": "1\n",
      "devices/system/cpu/cpu2/online": "0\n",
      "devices/system/cpu/cpu3/online": "0\n",
    });
    runFakeKernel(tree);
    expect(await onlineCpuCount(tree.root)).toBe(2);
    expect(await onlineCpus(tree.root, 3, fast)).toBe(3);
    expect(readFileSync(tree.path("devices/system/cpu/cpu2/online"), "utf8")).toBe("1");
    expect(readFileSync(tree.path("devices/system/cpu/cpu3/online"), "utf8")).toBe("0\n");
  });

  it("keeps looking while a hot-plugged CPU's directory appears late", async () => {
    tree = fakeTree();
    tree.write({ "devices/system/cpu/cpu0": null });
    runFakeKernel(tree);
    setTimeout(() => tree.write({ "devices/system/cpu/cpu1/online": "0\n" }), 60);
    expect(await onlineCpus(tree.root, 2, fast)).toBe(2);
  });

  it("does nothing when enough CPUs are online already (the VMM may online them itself)", async () => {
    tree = fakeTree();
    tree.write({ "devices/system/cpu/online": "0-3\n", "devices/system/cpu/cpu3/online": "0\n" });
    expect(await onlineCpus(tree.root, 2, fast)).toBe(4);
    expect(readFileSync(tree.path("devices/system/cpu/cpu3/online"), "utf8")).toBe("0\n");
  });

  it("gives up after the rounds, saying how many are online and what to check", async () => {
    tree = fakeTree();
    tree.write({ "devices/system/cpu/cpu0": null });
    runFakeKernel(tree);
    const started = Date.now();
    await expect(onlineCpus(tree.root, 4, { rounds: 5, intervalMs: 20 })).rejects.toMatchObject({
      kind: "runtime-failure",
      message: expect.stringMatching(
        /only 1 of the 4 CPUs .* after 5 rounds 20 ms apart: no offline CPU is left/,
      ),
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(80);
  });

  it("stops waiting when the call is cancelled", async () => {
    tree = fakeTree();
    tree.write({ "devices/system/cpu/cpu0": null });
    runFakeKernel(tree);
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 30);
    await expect(
      onlineCpus(tree.root, 2, { rounds: 1000, intervalMs: 10, signal: abort.signal }),
    ).rejects.toMatchObject({
      name: "AbortError",
    });
  });
});

describe("onlineMemory", () => {
  it("onlines exactly the offline memory blocks", async () => {
    tree = fakeTree();
    tree.write({
      "devices/system/memory/memory0/online": "1\n",
      "devices/system/memory/memory1/online": "0\n",
      "devices/system/memory/memory10/online": "0\n",
      "devices/system/memory/memory2/state": "online\n",
      "devices/system/memory/block_size_bytes": "8000000\n",
    });
    expect(await onlineMemory(tree.root)).toEqual(["memory1", "memory10"]);
    expect(readFileSync(tree.path("devices/system/memory/memory1/online"), "utf8")).toBe("1");
    expect(readFileSync(tree.path("devices/system/memory/memory0/online"), "utf8")).toBe("1\n");
  });
});

describe("probeMemory", () => {
  it("writes each address as 0x%X", async () => {
    tree = fakeTree();
    tree.write({ "devices/system/memory/probe": "" });
    await probeMemory(tree.root, [0xabc0000000n]);
    expect(readFileSync(tree.path("devices/system/memory/probe"), "utf8")).toBe("0xABC0000000");
  });

  it("refuses on a kernel without the probe interface, naming the file and the config option", async () => {
    tree = fakeTree();
    tree.write({ "devices/system/memory": null });
    await expect(probeMemory(tree.root, [0x1000n])).rejects.toMatchObject({
      kind: "runtime-failure",
      message: expect.stringMatching(/memory\/probe does not exist.*CONFIG_ARCH_MEMORY_PROBE/),
    });
  });
});
