import { afterEach, describe, expect, it } from "vitest";
import { DeviceManager } from "../../../../agent/src/devices/index.js";
import { GuestManager, type GuestManagerOptions } from "../../../../agent/src/guest/manager.js";
import type { GuestSystem } from "../../../../agent/src/guest/system.js";
import { Logger } from "../../../../agent/src/log.js";
import { type FakeTree, fakeTree } from "./fake-tree.js";

let tree: FakeTree;
let manager: GuestManager | undefined;
afterEach(() => {
  manager?.close();
  tree?.remove();
});

/** A system whose calls are recorded, failing with the errno given for a call name. */
function fakeSystem(failures: Record<string, string> = {}) {
  const calls: string[] = [];
  const call = (name: string, detail: string) => {
    calls.push(`${name} ${detail}`);
    const code = failures[name];
    if (code) throw Object.assign(new Error(`${name}: ${code} (fake)`), { code, syscall: name });
  };
  const system: GuestSystem = {
    settimeofday: (sec, usec) => call("settimeofday", `${sec}.${usec}`),
    swapon: (path, flags) => call("swapon", `${path} ${flags}`),
    addRandomEntropy: (data) => call("addRandomEntropy", `${data.length}`),
  };
  return { calls, system };
}

function make(options: Partial<GuestManagerOptions> = {}): GuestManager {
  manager?.close();
  tree?.remove();
  tree = fakeTree();
  tree.write({
    "sys/devices/system/memory/block_size_bytes": "8000000\n",
    "sys/devices/pci0000:00/0000:00:06.0/virtio5/block/vdd/uevent": "MAJOR=254\nMINOR=48\nDEVNAME=vdd\n",
    "proc/self/stat": "1 (x) S",
    "dev/vdd": "",
  });
  manager = new GuestManager({
    agentVersion: "9.9.9",
    log: Logger.create("critical", () => {}),
    devices: new DeviceManager({
      hotplugTimeoutMs: 200,
      sysfsRoot: tree.path("sys"),
      devRoot: tree.path("dev"),
      rescanBuses: false,
    }),
    storageHandlers: () => ["blk", "virtio-fs"],
    roots: { sys: tree.path("sys"), proc: tree.path("proc"), dev: "/dev", cgroup: tree.path("cgroup") },
    pid: 1,
    ...options,
  });
  return manager;
}

describe("GuestManager", () => {
  it("answers GetGuestDetails from sysfs and its options, only with what was asked", async () => {
    const m = make({ system: fakeSystem().system });
    expect(await m.details({ memBlockSize: true, memHotplugProbe: true })).toEqual({
      memBlockSizeBytes: 0x8000000n,
      supportMemHotplugProbe: false,
      agentDetails: {
        version: "9.9.9",
        initDaemon: true,
        deviceHandlers: [],
        storageHandlers: ["blk", "virtio-fs"],
        supportsSeccomp: true,
        extraFeatures: ["agent-policy", "seccomp"],
      },
    });
    expect((await m.details({ memBlockSize: false, memHotplugProbe: false })).memBlockSizeBytes).toBe(0n);
  });

  it("swaps on the disk found at a PCI path", async () => {
    const { calls, system } = fakeSystem();
    const m = make({ system });
    expect(await m.addSwap([6])).toBe(tree!.path("dev/vdd"));
    expect(calls).toEqual([`swapon ${tree!.path("dev/vdd")} 0`]);
  });

  it("explains swapon failures with what to do", () => {
    const { system } = fakeSystem({ swapon: "EINVAL" });
    const m = make({ system });
    expect(() => m.addSwapPath("/swapfile")).toThrow(
      expect.objectContaining({
        kind: "runtime-failure",
        message:
          "swapon /swapfile: EINVAL (fake); it is not a swap area: run mkswap on it first (swap files must have no holes)",
      }),
    );
  });

  it("takes a refused time as invalid input and a missing privilege as denied", () => {
    const bad = make({ system: fakeSystem({ settimeofday: "EINVAL" }).system });
    expect(() => bad.setDateTime(1, 2_000_000)).toThrow(expect.objectContaining({ kind: "invalid-input" }));
    const unprivileged = make({ system: fakeSystem({ settimeofday: "EPERM" }).system });
    expect(() => unprivileged.setDateTime(1, 0)).toThrow(
      expect.objectContaining({
        kind: "denied",
        message: expect.stringContaining("CAP_SYS_TIME"),
      }),
    );
  });

  it('says "mem-agent is disabled" without a mem-agent', () => {
    const m = make({ system: fakeSystem().system });
    expect(() => m.setMemcg({ swap: true })).toThrow(
      expect.objectContaining({
        kind: "unavailable",
        message: expect.stringMatching(/^mem-agent is disabled/),
      }),
    );
    expect(() => m.setCompact({})).toThrow(/mem-agent is disabled/);
  });
});
