// Device resolution against a fake sysfs and /dev in a temporary directory: PCI paths through
// bridges, SCSI addresses, /dev names, the spec patch, and what a timeout says.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterAll, describe, expect, it } from "vitest";
import { SpecSchema } from "../../../../agent/gen/oci_pb.js";
import { DeviceManager, type DeviceSpec, parsePciPath } from "../../../../agent/src/devices/index.js";
import { Logger } from "../../../../agent/src/log.js";

const base = mkdtempSync(join(tmpdir(), "kata-devices-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

interface Fake {
  sysfs: string;
  dev: string;
  manager(timeoutMs?: number): DeviceManager;
  /** A block device: sysfs dir with uevent, and the /dev node. */
  block(sysDir: string, name: string, major: number, minor: number): void;
  write(rel: string, text: string): void;
  mkdir(rel: string): void;
}

function fakeTree(): Fake {
  const root = mkdtempSync(join(base, "t-"));
  const sysfs = join(root, "sys");
  const dev = join(root, "dev");
  mkdirSync(sysfs);
  mkdirSync(dev);
  const fake: Fake = {
    sysfs,
    dev,
    manager: (timeoutMs = 2000) =>
      new DeviceManager({
        hotplugTimeoutMs: timeoutMs,
        sysfsRoot: sysfs,
        devRoot: dev,
        pollMs: 5,
        log: Logger.create("critical", () => {}),
      }),
    block(sysDir, name, major, minor) {
      fake.write(join(sysDir, "uevent"), `MAJOR=${major}\nMINOR=${minor}\nDEVNAME=${name}\nDEVTYPE=disk\n`);
      writeFileSync(join(dev, name), "");
    },
    write(rel, text) {
      mkdirSync(dirname(join(sysfs, rel)), { recursive: true });
      writeFileSync(join(sysfs, rel), text);
    },
    mkdir(rel) {
      mkdirSync(join(sysfs, rel), { recursive: true });
    },
  };
  return fake;
}

const ROOT = "devices/pci0000:00";

function device(fields: Partial<DeviceSpec>): DeviceSpec {
  return { id: "", type: "blk", vmPath: "", containerPath: "/dev/xda", options: [], ...fields };
}

describe("PCI paths", () => {
  it("parses slots, functions and pxb-pcie root complexes", () => {
    expect(parsePciPath("02/00")).toMatchObject({
      rootComplex: "00",
      slots: [
        { slot: 2, fn: 0 },
        { slot: 0, fn: 0 },
      ],
    });
    expect(parsePciPath("1f.7")).toMatchObject({ rootComplex: "00", slots: [{ slot: 0x1f, fn: 7 }] });
    expect(parsePciPath("20/00/02")).toMatchObject({
      rootComplex: "20",
      slots: [
        { slot: 0, fn: 0 },
        { slot: 2, fn: 0 },
      ],
    });
    // "02/00/01" is a nested path on pci0000:00, not a root complex.
    expect(parsePciPath("02/00/01").rootComplex).toBe("00");
    for (const bad of ["", "20", "00.8", "xy", "02//00", "02/"]) {
      expect(() => parsePciPath(bad), bad).toThrow(expect.objectContaining({ kind: "invalid-input" }));
    }
  });
});

describe("virtio-blk on PCI", () => {
  it("follows the bridge's secondary bus to the disk", async () => {
    const f = fakeTree();
    f.mkdir(`${ROOT}/0000:00:02.0/pci_bus/0000:01`);
    f.block(`${ROOT}/0000:00:02.0/0000:01:00.0/virtio3/block/vdb`, "vdb", 253, 16);
    expect(await f.manager().virtioBlkPci("02/00")).toEqual({
      path: join(f.dev, "vdb"),
      name: "vdb",
      major: 253,
      minor: 16,
    });
  });

  it("finds a disk under a pxb-pcie root complex", async () => {
    const f = fakeTree();
    f.mkdir("devices/pci0000:20/0000:20:00.0/pci_bus/0000:21");
    f.block("devices/pci0000:20/0000:20:00.0/0000:21:02.0/virtio0/block/vdc", "vdc", 253, 32);
    expect((await f.manager().virtioBlkPci("20/00/02")).path).toBe(join(f.dev, "vdc"));
  });

  it("waits for a disk that is plugged in later", async () => {
    const f = fakeTree();
    setTimeout(() => {
      f.mkdir(`${ROOT}/0000:00:02.0/pci_bus/0000:01`);
      f.block(`${ROOT}/0000:00:02.0/0000:01:01.0/virtio1/block/vda`, "vda", 253, 0);
    }, 150);
    const started = performance.now();
    expect((await f.manager().virtioBlkPci("02/01")).name).toBe("vda");
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("times out with the path, the bus, what was tried, and the setting to change", async () => {
    const f = fakeTree();
    f.write("bus/pci/rescan", "");
    f.mkdir(`${ROOT}/0000:00:02.0/pci_bus/0000:01`);
    const error = await f
      .manager(300)
      .virtioBlkPci("02/05")
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "timed-out" });
    const message = (error as Error).message;
    expect(message).toContain(
      "timed out after 300ms waiting for the virtio-blk disk at PCI path 02/05 on root bus pci0000:00",
    );
    expect(message).toContain(`${f.sysfs}/${ROOT}/0000:00:02.0/0000:01:05.0/virtio*/block/*`);
    expect(message).toMatch(/rescanned the PCI bus \(.*bus\/pci\/rescan\) after \d+ms, without result/);
    expect(message).toContain(
      "raise agent.hotplug_timeout (seconds, on the guest kernel command line; now 300ms)",
    );
    expect(readFileSync(join(f.sysfs, "bus/pci/rescan"), "utf8")).toBe("1");
  });

  it("says which bridge it was still waiting behind", async () => {
    const f = fakeTree();
    const message = await f
      .manager(50)
      .virtioBlkPci("03/00")
      .catch((e: Error) => e.message);
    expect(message).toContain(`looked for ${f.sysfs}/${ROOT}/0000:00:03.0/pci_bus/*`);
    expect(message).toContain("a PCI rescan");
  });

  it("stops waiting when the RPC is cancelled", async () => {
    const f = fakeTree();
    const error = await f
      .manager(10_000)
      .virtioBlkPci("02/00", AbortSignal.timeout(50))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      kind: "timed-out",
      message: expect.stringMatching(/^stopped waiting for the virtio-blk disk at PCI path 02\/00/),
    });
  });
});

describe("SCSI", () => {
  it("scans every host for the target and LUN and finds the disk", async () => {
    const f = fakeTree();
    f.write("class/scsi_host/host0/scan", "");
    f.write("class/scsi_host/host1/scan", "");
    f.block("bus/scsi/devices/1:0:3:7/block/sdc", "sdc", 8, 32);
    expect(await f.manager().scsiDisk("3:7")).toMatchObject({ name: "sdc", major: 8, minor: 32 });
    expect(readFileSync(join(f.sysfs, "class/scsi_host/host0/scan"), "utf8")).toBe("0 3 7");
    expect(readFileSync(join(f.sysfs, "class/scsi_host/host1/scan"), "utf8")).toBe("0 3 7");
  });

  it("refuses a malformed address and times out naming the address", async () => {
    const f = fakeTree();
    await expect(f.manager().scsiDisk("0:0:1")).rejects.toMatchObject({ kind: "invalid-input" });
    const message = await f
      .manager(60)
      .scsiDisk("0:1")
      .catch((e: Error) => e.message);
    expect(message).toContain("waiting for the SCSI disk at address 0:1");
    expect(message).toContain("found no SCSI host");
    expect(message).toContain("agent.hotplug_timeout");
  });
});

describe("resolveDevices", () => {
  function spec() {
    return create(SpecSchema, {
      Linux: {
        Devices: [
          { Path: "/dev/xda", Type: "b", Major: 8n, Minor: 0n, FileMode: 0o660 },
          { Path: "/dev/other", Type: "c", Major: 1n, Minor: 3n },
        ],
        Resources: { Devices: [{ Allow: false, Type: "b", Major: 8n, Minor: 0n, Access: "rwm" }] },
      },
    });
  }

  it("patches Linux.Devices and the cgroup rules with the guest's numbers", async () => {
    const f = fakeTree();
    f.mkdir(`${ROOT}/0000:00:02.0/pci_bus/0000:01`);
    f.block(`${ROOT}/0000:00:02.0/0000:01:00.0/virtio3/block/vdb`, "vdb", 253, 16);
    const s = spec();
    const resolved = await f.manager().resolveDevices([device({ id: "02/00" })], s);
    expect(resolved).toEqual([
      {
        containerPath: "/dev/xda",
        type: "blk",
        device: expect.objectContaining({ path: join(f.dev, "vdb") }),
      },
    ]);
    expect(s.Linux?.Devices[0]).toMatchObject({ Path: "/dev/xda", Major: 253n, Minor: 16n });
    expect(s.Linux?.Devices[1]).toMatchObject({ Major: 1n, Minor: 3n });
    expect(s.Linux?.Resources?.Devices.map((d) => [d.Allow, d.Type, d.Major, d.Minor, d.Access])).toEqual([
      [false, "b", 253n, 16n, "rwm"],
      [true, "b", 253n, 16n, "rwm"],
    ]);
  });

  it("handles mmioblk, nvdimm and blk by vm_path", async () => {
    const f = fakeTree();
    f.block("class/block/vdd", "vdd", 254, 48);
    f.block("class/block/pmem0", "pmem0", 259, 0);
    const s = create(SpecSchema, {
      Linux: {
        Devices: [
          { Path: "/dev/a", Type: "b" },
          { Path: "/dev/b", Type: "b" },
          { Path: "/dev/c", Type: "b" },
        ],
      },
    });
    await f
      .manager()
      .resolveDevices(
        [
          device({ type: "mmioblk", vmPath: "/dev/vdd", containerPath: "/dev/a" }),
          device({ type: "nvdimm", vmPath: "/dev/pmem0", containerPath: "/dev/b" }),
          device({ type: "blk", vmPath: "/dev/vdd", containerPath: "/dev/c" }),
        ],
        s,
      );
    expect(s.Linux?.Devices.map((d) => `${d.Major}:${d.Minor}`)).toEqual(["254:48", "259:0", "254:48"]);
  });

  it("refuses bad requests with codes that name the problem", async () => {
    const m = fakeTree().manager(50);
    const s = spec();
    await expect(m.resolveDevices([device({ type: "vfio-pci", id: "02/00" })], s)).rejects.toMatchObject({
      kind: "unsupported",
      message: expect.stringContaining(
        "device type vfio-pci is not supported by this agent (it handles: blk, mmioblk, nvdimm, scsi)",
      ),
    });
    await expect(m.resolveDevices([device({ type: "floppy", id: "x" })], s)).rejects.toMatchObject({
      kind: "invalid-input",
    });
    await expect(m.resolveDevices([device({ containerPath: "", id: "02/00" })], s)).rejects.toMatchObject({
      kind: "invalid-input",
    });
    await expect(m.resolveDevices([device({ type: "mmioblk", vmPath: "vdb" })], s)).rejects.toThrow(
      /must start with \/dev\//,
    );
  });

  it("fails when the spec does not list the device", async () => {
    const f = fakeTree();
    f.block("class/block/vdd", "vdd", 254, 48);
    await expect(
      f
        .manager()
        .resolveDevices(
          [device({ type: "mmioblk", vmPath: "/dev/vdd", containerPath: "/dev/missing" })],
          spec(),
        ),
    ).rejects.toMatchObject({ kind: "invalid-input", message: expect.stringContaining("/dev/missing") });
  });
});
