// The PCI-path wait against a fake sysfs tree laid out like the real one: bridges with their
// subordinate bus under pci_bus/, the NIC under its virtio device, /sys/class/net symlinks.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Code } from "../../../../agent/src/core/code.js";
import { parsePciPath, pciDeviceDir, waitForNic } from "../../../../agent/src/network/hotplug.js";

let sysfs: string;
beforeEach(() => {
  sysfs = mkdtempSync(join(tmpdir(), "kata-net-sysfs-"));
  mkdirSync(join(sysfs, "class/net"), { recursive: true });
  mkdirSync(join(sysfs, "devices/pci0000:00"), { recursive: true });
});
afterEach(() => rmSync(sysfs, { recursive: true, force: true }));

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

describe("parsePciPath", () => {
  it("reads slots and optional functions", () => {
    expect(parsePciPath("02/00", "f").slots).toEqual([
      { device: 2, fn: 0 },
      { device: 0, fn: 0 },
    ]);
    expect(parsePciPath("1f.3", "f").slots).toEqual([{ device: 0x1f, fn: 3 }]);
    expect(parsePciPath("0A/1", "f").slots).toEqual([
      { device: 10, fn: 0 },
      { device: 1, fn: 0 },
    ]);
  });

  it.each(["", "02/", "/02", "20", "02/00/zz", "02.8", "../02", "02//00", "0x02"])("refuses %j", (text) => {
    expect(() => parsePciPath(text, "interface.devicePath")).toThrow(
      expect.objectContaining({
        code: Code.InvalidArgument,
        message: expect.stringContaining("interface.devicePath"),
      }),
    );
  });
});

describe("pciDeviceDir", () => {
  it("follows each bridge's subordinate bus", async () => {
    const bridge = addBridge("02", "01");
    expect(await pciDeviceDir(sysfs, parsePciPath("02/05", "f"))).toBe(join(bridge, "0000:01:05.0"));
    expect(await pciDeviceDir(sysfs, parsePciPath("03", "f"))).toBe(
      join(sysfs, "devices/pci0000:00/0000:00:03.0"),
    );
  });

  it("is undefined while a bridge on the way is missing", async () => {
    expect(await pciDeviceDir(sysfs, parsePciPath("02/05", "f"))).toBeUndefined();
  });
});

describe("waitForNic", () => {
  it("returns at once for a NIC that is already there", async () => {
    const bridge = addBridge("02", "01");
    addNic(join(bridge, "0000:01:00.0"), "eth0");
    expect(await waitForNic(parsePciPath("02/00", "f"), { sysfs, timeoutMs: 1000 })).toBe("eth0");
  });

  it("waits for the NIC to appear, ignoring NICs at other PCI paths", async () => {
    const bridge = addBridge("02", "01");
    addNic(join(bridge, "0000:01:01.0"), "eth0");
    setTimeout(() => addNic(join(bridge, "0000:01:00.0"), "eth1"), 150);
    const started = Date.now();
    expect(await waitForNic(parsePciPath("02/00", "f"), { sysfs, timeoutMs: 3000 })).toBe("eth1");
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("gives up after the timeout with a message naming the path, the timeout and the setting", async () => {
    addBridge("02", "01");
    const started = Date.now();
    const err = await waitForNic(parsePciPath("02/00", "f"), { sysfs, timeoutMs: 200 }).catch(
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(err).toMatchObject({ code: Code.Internal });
    expect((err as Error).message).toMatch(/PCI path 02\/00.*200 ms.*agent\.hotplug_timeout/s);
  });

  it("stops waiting when the call is cancelled", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const err = await waitForNic(parsePciPath("02/00", "f"), {
      sysfs,
      timeoutMs: 10_000,
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "AbortError" });
  });
});
