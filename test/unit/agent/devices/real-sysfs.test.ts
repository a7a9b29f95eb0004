// The PCI walk against this machine's own sysfs, not a fake tree: every virtio disk on PCI is
// found from the PCI path its /sys/block/<name>/device link gives, read independently here.
import { readdirSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DeviceManager } from "../../../../agent/src/devices/index.js";

function realVirtioDisks(): { name: string; pciPath: string }[] {
  const disks: { name: string; pciPath: string }[] = [];
  for (const name of readdirSync("/sys/block")) {
    let target: string;
    try {
      target = realpathSync(join("/sys/block", name, "device"));
    } catch {
      continue;
    }
    const match = /\/pci0000:00\/((?:[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.\d\/)+)virtio\d+$/.exec(target);
    if (!match?.[1]) continue;
    const pciPath = match[1]
      .split("/")
      .filter(Boolean)
      .map((bdf) => bdf.split(":")[2]!.split(".")[0]!)
      .join("/");
    disks.push({ name, pciPath });
  }
  return disks;
}

describe("virtio-blk by PCI path on this machine", () => {
  it("finds each virtio disk, with the device numbers of its /dev node", async () => {
    const disks = realVirtioDisks();
    expect(disks.length, "this machine type has a virtio-blk root disk on PCI").toBeGreaterThan(0);
    const devices = new DeviceManager({ hotplugTimeoutMs: 1000, rescanBuses: false });
    for (const disk of disks) {
      const found = await devices.virtioBlkPci(disk.pciPath);
      const rdev = statSync(`/dev/${disk.name}`).rdev;
      expect(found).toEqual({
        path: `/dev/${disk.name}`,
        name: disk.name,
        major: Math.floor(rdev / 256) & 0xfff,
        minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00),
      });
    }
  });
});
