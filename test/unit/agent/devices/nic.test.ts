// Finding a hot-plugged NIC by PCI path against a fake sysfs tree laid out like the real one:
// bridges with their subordinate bus under pci_bus/, the NIC under its virtio device, and
// /sys/class/net symlinks pointing into the device tree.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DeviceManager } from "../../../../agent/src/devices/index.js";

let sysfs: string;
beforeEach(() => {
  sysfs = mkdtempSync(join(tmpdir(), "kata-nic-sysfs-"));
  mkdirSync(join(sysfs, "class/net"), { recursive: true });
  mkdirSync(join(sysfs, "devices/pci0000:00"), { recursive: true });
  mkdirSync(join(sysfs, "bus/pci"), { recursive: true });
});
afterEach(() => rmSync(sysfs, { recursive: true, force: true }));

const devices = (timeoutMs: number, rescanBuses = true) =>
  new DeviceManager({ hotplugTimeoutMs: timeoutMs, sysfsRoot: sysfs, pollMs: 5, rescanBuses });

/** A bridge at 0000:00:<slot>.0 whose subordinate bus is 0000:<bus>. */
function addBridge(slot: string, bus: string): string {
  const dir = join(sysfs, `devices/pci0000:00/0000:00:${slot}.0`);
  mkdirSync(join(dir, "pci_bus", `0000:${bus}`), { recursive: true });
  return dir;
}

/** A virtio NIC at `deviceDir`, listed in class/net as `name`. */
function addNic(deviceDir: string, name: string): void {
  const netDir = join(deviceDir, "virtio3/net", name);
  mkdirSync(netDir, { recursive: true });
  symlinkSync(relative(join(sysfs, "class/net"), netDir), join(sysfs, "class/net", name));
}

describe("DeviceManager.pciNic", () => {
  it("returns at once for a NIC that is already there, behind a bridge", async () => {
    const bridge = addBridge("02", "01");
    addNic(join(bridge, "0000:01:00.0"), "eth0");
    expect(await devices(1000).pciNic("02/00")).toBe("eth0");
  });

  it("finds a NIC on the root bus", async () => {
    addNic(join(sysfs, "devices/pci0000:00/0000:00:03.0"), "eth7");
    expect(await devices(1000).pciNic("03")).toBe("eth7");
  });

  it("waits for the NIC to appear, ignoring NICs at other PCI paths", async () => {
    const bridge = addBridge("02", "01");
    addNic(join(bridge, "0000:01:01.0"), "eth0");
    setTimeout(() => addNic(join(bridge, "0000:01:00.0"), "eth1"), 150);
    const started = Date.now();
    expect(await devices(3000).pciNic("02/00")).toBe("eth1");
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("rescans the PCI bus once, then gives up naming the path, what it looked for and the setting", async () => {
    addBridge("02", "01");
    const started = Date.now();
    const err = await devices(300)
      .pciNic("02/00")
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(err).toMatchObject({ kind: "timed-out" });
    expect((err as Error).message).toMatch(
      /network device at PCI path 02\/00 \(looked for .*class\/net\/\* linked under .*0000:01:00\.0\).*rescanned the PCI bus.*agent\.hotplug_timeout/s,
    );
    expect(readFileSync(join(sysfs, "bus/pci/rescan"), "utf8")).toBe("1");
  });

  it("leaves the bus alone when told not to rescan (an agent on a host)", async () => {
    const err = await devices(100, false)
      .pciNic("02/00")
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "timed-out" });
    expect(() => readFileSync(join(sysfs, "bus/pci/rescan"))).toThrow(/ENOENT/);
  });

  it("stops waiting when the call is cancelled", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const err = await devices(10_000)
      .pciNic("02/00", controller.signal)
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err).toMatchObject({ kind: "cancelled" });
  });

  it.each(["", "02/", "/02", "20", "02/00/zz", "02.8", "../02", "02//00", "0x02"])(
    "refuses the PCI path %j",
    async (text) => {
      await expect(devices(100).pciNic(text)).rejects.toMatchObject({ kind: "invalid-input" });
    },
  );
});
