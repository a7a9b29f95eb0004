import { readdirSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Code } from "../../../../agent/src/core/code.js";
import { findPciDevice, formatPciPath, waitForPciBlockDevice } from "../../../../agent/src/guest/pci.js";
import { type FakeTree, fakeTree } from "./fake-tree.js";

let tree: FakeTree | undefined;
afterEach(() => tree?.remove());

/** This machine's virtio disks with the PCI path their sysfs device link gives, read independently. */
function realVirtioDisks(): { name: string; slots: number[] }[] {
  const disks: { name: string; slots: number[] }[] = [];
  for (const name of readdirSync("/sys/block")) {
    let target: string;
    try {
      target = realpathSync(join("/sys/block", name, "device"));
    } catch {
      continue;
    }
    const match = /\/pci0000:00\/((?:[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.\d\/)+)virtio\d+$/.exec(target);
    if (!match?.[1]) continue;
    const slots = match[1]
      .split("/")
      .filter(Boolean)
      .map((bdf) => parseInt(bdf.split(":")[2]!.split(".")[0]!, 16));
    disks.push({ name, slots });
  }
  return disks;
}

describe("PCI path resolution", () => {
  it("finds this machine's virtio disks from their PCI paths", async () => {
    const disks = realVirtioDisks();
    expect(disks.length, "this machine type has a virtio-blk root disk on PCI").toBeGreaterThan(0);
    for (const disk of disks) {
      expect(await waitForPciBlockDevice("/sys", disk.slots, { timeoutMs: 1000 })).toBe(disk.name);
    }
  });

  it("follows bridges through their secondary bus", async () => {
    tree = fakeTree();
    const bridge = "devices/pci0000:00/0000:00:02.0";
    tree.write({
      [`${bridge}/pci_bus/0000:01`]: null,
      [`${bridge}/0000:01:1f.0/virtio7/block/vdc`]: null,
    });
    expect(await waitForPciBlockDevice(tree.root, [2, 31], { timeoutMs: 100 })).toBe("vdc");
    expect(formatPciPath([2, 31])).toBe("02/1f");
  });

  it("waits for a disk that appears after the call", async () => {
    tree = fakeTree();
    tree.write({ "devices/pci0000:00/0000:00:00.0": null });
    setTimeout(() => tree?.write({ "devices/pci0000:00/0000:00:05.0/virtio2/block/vdb": null }), 80);
    expect(await waitForPciBlockDevice(tree.root, [5], { timeoutMs: 2000, pollMs: 10 })).toBe("vdb");
  });

  it("says where it stopped: the missing device, or a bridge without its bus", async () => {
    tree = fakeTree();
    tree.write({ "devices/pci0000:00/0000:00:02.0": null });
    expect(await findPciDevice(tree.root, [3])).toEqual({
      missing: tree.path("devices/pci0000:00/0000:00:03.0"),
    });
    expect(await findPciDevice(tree.root, [2, 1])).toEqual({
      missing: tree.path("devices/pci0000:00/0000:00:02.0/pci_bus"),
    });
  });

  it("times out naming the PCI path, the sysfs path and agent.hotplug_timeout", async () => {
    tree = fakeTree();
    tree.write({ "devices/pci0000:00": null });
    const started = Date.now();
    const err = await waitForPciBlockDevice(tree.root, [9], { timeoutMs: 150, pollMs: 20 }).catch(
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(err).toMatchObject({ code: Code.Internal });
    expect((err as Error).message).toMatch(
      /^no block device for PCI path 09 after 150 ms: .*0000:00:09\.0 does not exist; .*agent\.hotplug_timeout$/,
    );
  });

  it("refuses empty paths and impossible slots", async () => {
    await expect(waitForPciBlockDevice("/sys", [], { timeoutMs: 10 })).rejects.toMatchObject({
      code: Code.InvalidArgument,
    });
    await expect(waitForPciBlockDevice("/sys", [32], { timeoutMs: 10 })).rejects.toMatchObject({
      code: Code.InvalidArgument,
      message: expect.stringContaining("slot 32 is out of range"),
    });
  });
});
