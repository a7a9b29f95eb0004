// Driver argument construction and the manager's bookkeeping, against a recording mounter. Real
// mounts (loop devices, tmpfs, overlay) are in test/integration/agent/storage.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { DeviceManager } from "../../../../agent/src/devices/index.js";
import { Logger } from "../../../../agent/src/log.js";
import { allocateHugepages } from "../../../../agent/src/storage/drivers/ephemeral.js";
import { MS, StorageManager } from "../../../../agent/src/storage/index.js";
import { storageSpec } from "../../../helpers/storage.js";
import { RecordingMounter } from "./fake-mounter.js";

const dir = mkdtempSync(join(tmpdir(), "kata-storage-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = Logger.create("critical", () => {});

let mounter: RecordingMounter;
let manager: StorageManager;
let runDir: string;
beforeEach(() => {
  runDir = mkdtempSync(join(dir, "run-"));
  mounter = new RecordingMounter();
  manager = new StorageManager({
    runDir,
    mounter,
    devices: new DeviceManager({
      hotplugTimeoutMs: 100,
      sysfsRoot: join(dir, "no-sys"),
      devRoot: join(dir, "no-dev"),
    }),
    log: quiet,
  });
});

describe("shared filesystem drivers", () => {
  it("mounts virtio-fs by its tag with the runtime's options", async () => {
    const mountPoint = join(runDir, "shared/containers");
    const paths = await manager.add(
      [
        storageSpec({
          driver: "virtio-fs",
          source: "kataShared",
          fstype: "virtiofs",
          mountPoint,
          options: ["dax"],
        }),
      ],
      "sandbox",
    );
    expect(paths).toEqual([mountPoint]);
    expect(mounter.calls).toEqual([
      { source: "kataShared", target: mountPoint, fstype: "virtiofs", flags: 0, data: "dax" },
    ]);
    expect(statSync(mountPoint).isDirectory()).toBe(true);
  });

  it("leaves an already mounted kataShared alone", async () => {
    const mountPoint = join(runDir, "shared/containers");
    mounter.mounted.add(mountPoint);
    await manager.add(
      [storageSpec({ driver: "virtio-fs", source: "kataShared", fstype: "virtiofs", mountPoint })],
      "sandbox",
    );
    expect(mounter.calls).toEqual([]);
  });

  it("builds 9p mount arguments from the Go runtime's options", async () => {
    const mountPoint = join(runDir, "shared/containers");
    await manager.add(
      [
        storageSpec({
          driver: "9p",
          source: "kataShared",
          fstype: "9p",
          mountPoint,
          options: ["trans=virtio,version=9p2000.L,cache=mmap", "nodev", "msize=512000"],
        }),
      ],
      "sandbox",
    );
    expect(mounter.calls).toEqual([
      {
        source: "kataShared",
        target: mountPoint,
        fstype: "9p",
        flags: MS.NODEV,
        data: "trans=virtio,version=9p2000.L,cache=mmap,msize=512000",
      },
    ]);
  });

  it("gives 9p trans=virtio and version=9p2000.L when they are missing", async () => {
    const mountPoint = join(runDir, "9p");
    await manager.add(
      [storageSpec({ driver: "9p", source: "tag", mountPoint, options: ["msize=8192", "ro"] })],
      "sandbox",
    );
    expect(mounter.calls[0]).toEqual({
      source: "tag",
      target: mountPoint,
      fstype: "9p",
      flags: MS.RDONLY,
      data: "trans=virtio,version=9p2000.L,msize=8192",
    });
  });

  it("names the driver, source and errno when the mount fails", async () => {
    const mountPoint = join(runDir, "shared/containers");
    mounter.failNext = { target: mountPoint, code: "ENODEV" };
    await expect(
      manager.add([storageSpec({ driver: "9p", source: "kataShared", fstype: "9p", mountPoint })], "sandbox"),
    ).rejects.toMatchObject({
      kind: "runtime-failure",
      message: expect.stringMatching(
        /^storage driver "9p": cannot mount kataShared \(9p\) on .*ENODEV.*no 9p filesystem/,
      ),
    });
  });
});

describe("overlayfs", () => {
  it("creates the container's upper and work dirs for overlay-rw and keeps agent options from the kernel", async () => {
    const mountPoint = join(runDir, "c1/rootfs");
    await manager.add(
      [
        storageSpec({
          driver: "overlayfs",
          source: "overlay",
          fstype: "overlay",
          mountPoint,
          options: ["lowerdir=/lower", "io.katacontainers.fs-opt.overlay-rw"],
        }),
      ],
      "c1",
    );
    expect(mounter.calls[0]).toMatchObject({
      fstype: "overlay",
      data: `lowerdir=/lower,upperdir=${runDir}/c1/upper,workdir=${runDir}/c1/work`,
    });
    expect(statSync(join(runDir, "c1/upper")).isDirectory()).toBe(true);
  });

  it("pre-creates create_directory paths", async () => {
    const upper = join(runDir, "w/upper");
    await manager.add(
      [
        storageSpec({
          driver: "overlayfs",
          source: "overlay",
          mountPoint: join(runDir, "o"),
          driverOptions: [`io.katacontainers.volume.overlayfs.create_directory=${upper}`],
          options: ["lowerdir=/l", `upperdir=${upper}`],
        }),
      ],
      "c1",
    );
    expect(statSync(upper).isDirectory()).toBe(true);
  });
});

describe("registry and reference counts", () => {
  it("lists the drivers, including 9p which upstream dropped", () => {
    expect(manager.drivers()).toEqual([
      "9p",
      "blk",
      "ephemeral",
      "local",
      "mmioblk",
      "nvdimm",
      "overlayfs",
      "scsi",
      "virtio-fs",
      "watchable-bind",
    ]);
  });

  it("refuses unknown drivers by name, and upstream-only ones as unsupported", async () => {
    await expect(manager.add([storageSpec({ driver: "nfs", mountPoint: "/x" })], "c1")).rejects.toMatchObject(
      {
        kind: "invalid-input",
        message: expect.stringContaining('unknown storage driver "nfs"; this agent supports: 9p, blk'),
      },
    );
    await expect(
      manager.add([storageSpec({ driver: "image_guest_pull", mountPoint: "/x" })], "c1"),
    ).rejects.toMatchObject({
      kind: "unsupported",
    });
  });

  it("mounts a storage once, counts holders, and unmounts after the last release", async () => {
    const s = storageSpec({
      driver: "virtio-fs",
      source: "tag",
      fstype: "virtiofs",
      mountPoint: join(runDir, "v"),
    });
    await manager.add([s], "c1");
    await manager.add([s], "c2");
    expect(mounter.calls).toHaveLength(1);
    expect(manager.holders(s.mountPoint)).toEqual(
      new Map([
        ["c1", 1],
        ["c2", 1],
      ]),
    );
    await manager.release("c1");
    expect(mounter.unmounts).toEqual([]);
    await manager.release("c2");
    expect(mounter.unmounts).toEqual([s.mountPoint]);
    expect(manager.holders(s.mountPoint)).toBeUndefined();
  });

  it("keeps shared storages until the sandbox goes", async () => {
    const s = storageSpec({
      driver: "virtio-fs",
      source: "tag",
      mountPoint: join(runDir, "s"),
      shared: true,
    });
    await manager.add([s], "c1");
    await manager.release("c1");
    expect(mounter.unmounts).toEqual([]);
    await manager.add([s], "c2");
    expect(mounter.calls).toHaveLength(1);
    await manager.releaseAll();
    expect(mounter.unmounts).toEqual([s.mountPoint]);
  });

  it("rolls back the storages of a request when a later one fails", async () => {
    const first = storageSpec({ driver: "virtio-fs", source: "tag", mountPoint: join(runDir, "a") });
    const second = storageSpec({ driver: "virtio-fs", source: "tag", mountPoint: join(runDir, "b") });
    mounter.failNext = { target: second.mountPoint, code: "EINVAL" };
    await expect(manager.add([first, second], "c1")).rejects.toThrow(/cannot mount tag/);
    expect(mounter.unmounts).toEqual([first.mountPoint]);
    expect(manager.holders(first.mountPoint)).toBeUndefined();
  });

  it("updates only ephemeral mounts, dropping fsgid", async () => {
    const mountPoint = join(runDir, "shm");
    await manager.updateEphemeral([
      storageSpec({
        driver: "ephemeral",
        source: "shm",
        fstype: "tmpfs",
        mountPoint,
        options: ["remount", "size=8M", "fsgid=5"],
      }),
    ]);
    expect(mounter.calls).toEqual([
      { source: "shm", target: mountPoint, fstype: "tmpfs", flags: MS.REMOUNT, data: "size=8M" },
    ]);
    await expect(
      manager.updateEphemeral([storageSpec({ driver: "local", mountPoint, options: ["size=1"] })]),
    ).rejects.toMatchObject({
      kind: "invalid-input",
      message: expect.stringContaining("only updates ephemeral"),
    });
  });
});

describe("hugetlbfs page reservation", () => {
  it("adds size/pagesize pages to the pool and verifies the kernel granted them", async () => {
    const sysfs = mkdtempSync(join(dir, "sys-"));
    const pool = join(sysfs, "kernel/mm/hugepages/hugepages-2048kB");
    mkdirSync(pool, { recursive: true });
    writeFileSync(join(pool, "nr_hugepages"), "4\n");
    const pages = await allocateHugepages({ sysfsRoot: sysfs, log: quiet }, [
      "pagesize=2097152,size=20971520",
    ]);
    expect(pages).toBe(10);
    expect(readFileSync(join(pool, "nr_hugepages"), "utf8")).toBe("14");
  });

  it("explains a missing page size and missing options", async () => {
    const sysfs = mkdtempSync(join(dir, "sys-"));
    await expect(
      allocateHugepages({ sysfsRoot: sysfs, log: quiet }, ["pagesize=1G,size=1G"]),
    ).rejects.toMatchObject({
      kind: "precondition",
      message: expect.stringContaining("no 1073741824-byte huge pages"),
    });
    await expect(allocateHugepages({ sysfsRoot: sysfs, log: quiet }, ["size=1G"])).rejects.toMatchObject({
      kind: "invalid-input",
    });
  });
});
