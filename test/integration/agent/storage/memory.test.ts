// Storages without disks, mounted for real: ephemeral tmpfs with size and fsgid (and its update),
// local directories, overlayfs with a per-container writable layer, read-only binds, and the
// watchable-bind mirror with its fall-back to a bind mount.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { DeviceManager } from "../../../../agent/src/devices/index.js";
import { StorageManager } from "../../../../agent/src/storage/index.js";
import { MAX_ENTRIES_PER_STORAGE } from "../../../../agent/src/storage/watcher.js";
import { storageSpec } from "../../../helpers/storage.js";
import { Kernel, mountAt } from "./kernel.js";

const dir = mkdtempSync(join(tmpdir(), "kata-memory-"));
const kernel = new Kernel(dir);
afterAll(() => {
  kernel.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

let manager: StorageManager;
let runDir: string;
beforeEach(() => {
  runDir = mkdtempSync(join(dir, "run-"));
  manager = new StorageManager({
    runDir,
    devices: new DeviceManager({ hotplugTimeoutMs: 100 }),
    watchIntervalMs: 50,
  });
});
afterEach(async () => {
  await manager.releaseAll();
});

const MiB = 1024n * 1024n;

describe("ephemeral", () => {
  it("mounts a tmpfs with its size, mode and flags, gives it the fsgid, and keeps it for the sandbox", async () => {
    const mountPoint = join(runDir, "sandbox", "shm");
    const shm = storageSpec({
      driver: "ephemeral",
      source: "shm",
      fstype: "tmpfs",
      mountPoint,
      options: ["noexec", "nosuid", "nodev", "mode=1777", `size=${2n * MiB}`, "fsgid=3000"],
    });
    expect(await manager.add([shm], "c1")).toEqual([mountPoint]);
    const m = mountAt(mountPoint);
    expect(m).toMatchObject({
      fstype: "tmpfs",
      source: "shm",
      options: expect.stringMatching(/nosuid,nodev,noexec/),
    });
    expect(m?.superOptions).toContain("size=2048k");
    const fs = await statfs(mountPoint, { bigint: true });
    expect(fs.blocks * fs.bsize).toBe(2n * MiB);
    const st = statSync(mountPoint);
    expect([st.gid, st.mode & 0o7777]).toEqual([3000, 0o3777]);
    writeFileSync(join(mountPoint, "data"), "survives a container restart");
    // The last container going does not take the volume's data with it.
    await manager.release("c1");
    await manager.add([shm], "c1-restarted");
    expect(readFileSync(join(mountPoint, "data"), "utf8")).toBe("survives a container restart");
    await manager.releaseAll();
    expect(mountAt(mountPoint)).toBeUndefined();
  });

  it("remounts with a new size on UpdateEphemeralMounts, keeping nosuid/nodev/noexec", async () => {
    const mountPoint = join(runDir, "mem");
    await manager.add(
      [
        storageSpec({
          driver: "ephemeral",
          source: "tmpfs",
          fstype: "tmpfs",
          mountPoint,
          options: ["noexec", "nosuid", "nodev", "size=1M"],
        }),
      ],
      "c1",
    );
    await manager.updateEphemeral([
      storageSpec({
        driver: "ephemeral",
        source: "tmpfs",
        fstype: "tmpfs",
        mountPoint,
        options: ["remount", "size=4M", "fsgid=7"],
      }),
    ]);
    const fs = await statfs(mountPoint, { bigint: true });
    expect(fs.blocks * fs.bsize).toBe(4n * MiB);
    expect(mountAt(mountPoint)?.options).toMatch(/^rw,nosuid,nodev,noexec/);
  });

  it("grows a tmpfs volume with ResizeVolume, keeping its flags", async () => {
    const mountPoint = join(runDir, "resizable");
    await manager.add(
      [
        storageSpec({
          driver: "ephemeral",
          source: "tmpfs",
          fstype: "tmpfs",
          mountPoint,
          options: ["nodev", "noexec", "size=1M"],
        }),
      ],
      "c1",
    );
    await manager.resizeVolume(mountPoint, 8n * MiB);
    const fs = await statfs(mountPoint, { bigint: true });
    expect(fs.blocks * fs.bsize).toBe(8n * MiB);
    expect(mountAt(mountPoint)?.options).toMatch(/nodev,noexec/);
  });
});

describe("local", () => {
  it("creates the directory with its mode and fsgid, mounting nothing", async () => {
    const path = join(runDir, "sandbox", "rootfs", "local", "cache");
    expect(
      await manager.add(
        [
          storageSpec({
            driver: "local",
            source: "local",
            mountPoint: path,
            options: ["mode=0750", "fsgid=2001"],
          }),
        ],
        "c1",
      ),
    ).toEqual([]);
    const st = statSync(path);
    expect([st.isDirectory(), st.mode & 0o7777, st.gid]).toEqual([true, 0o2750, 2001]);
    expect(mountAt(path)).toBeUndefined();
    await expect(
      manager.add(
        [
          storageSpec({
            driver: "local",
            source: "local",
            mountPoint: join(runDir, "x"),
            options: ["mode=rwx"],
          }),
        ],
        "c1",
      ),
    ).rejects.toThrow(/mode=rwx is not an octal mode/);
  });
});

describe("overlayfs", () => {
  it("mounts an overlay whose writes land in the container's upper directory", async () => {
    const lower = join(dir, "lower");
    mkdirSync(lower, { recursive: true });
    writeFileSync(join(lower, "base"), "from lower");
    const mountPoint = join(runDir, "c1", "rootfs");
    await manager.add(
      [
        storageSpec({
          driver: "overlayfs",
          source: "overlay",
          fstype: "overlay",
          mountPoint,
          options: [`lowerdir=${lower}`, "io.katacontainers.fs-opt.overlay-rw"],
        }),
      ],
      "c1",
    );
    expect(mountAt(mountPoint)?.fstype).toBe("overlay");
    expect(readFileSync(join(mountPoint, "base"), "utf8")).toBe("from lower");
    writeFileSync(join(mountPoint, "new"), "written in the container");
    expect(readFileSync(join(runDir, "c1", "upper", "new"), "utf8")).toBe("written in the container");
    expect(readdirSync(lower)).toEqual(["base"]);
    await manager.release("c1");
    expect(mountAt(mountPoint)).toBeUndefined();
  });
});

describe("binds", () => {
  it("makes a read-only bind really read-only (a second mount call)", async () => {
    const source = join(dir, "bind-src");
    mkdirSync(source, { recursive: true });
    const mountPoint = join(runDir, "ro-bind");
    await manager.add(
      [storageSpec({ driver: "virtio-fs", source, fstype: "bind", mountPoint, options: ["bind", "ro"] })],
      "c1",
    );
    expect(mountAt(mountPoint)?.options).toMatch(/^ro,/);
    expect(() => writeFileSync(join(mountPoint, "x"), "x")).toThrow(
      expect.objectContaining({ code: "EROFS" }),
    );
  });
});

describe("watchable-bind", () => {
  it("mirrors a small volume into the watchable tmpfs and follows changes", async () => {
    const source = join(dir, "configmap");
    mkdirSync(join(source, "sub"), { recursive: true });
    writeFileSync(join(source, "a"), "one");
    writeFileSync(join(source, "sub", "b"), "two");
    const target = join(runDir, "shared", "containers", "watchable", "c1-configmap");
    expect(
      await manager.add([storageSpec({ driver: "watchable-bind", source, mountPoint: target })], "c1"),
    ).toEqual([]);
    expect(mountAt(join(runDir, "shared", "containers", "watchable"))?.fstype).toBe("tmpfs");
    expect(readFileSync(join(target, "a"), "utf8")).toBe("one");
    expect(readFileSync(join(target, "sub", "b"), "utf8")).toBe("two");
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(join(source, "a"), "changed");
    rmSync(join(source, "sub"), { recursive: true });
    await expect.poll(() => readFileSync(join(target, "a"), "utf8"), { timeout: 2000 }).toBe("changed");
    await expect.poll(() => readdirSync(target).sort(), { timeout: 2000 }).toEqual(["a"]);
    await manager.release("c1");
    expect(() => statSync(target)).toThrow();
  });

  it("falls back to a bind mount when the volume has too many entries", async () => {
    const source = join(dir, "big-configmap");
    mkdirSync(source, { recursive: true });
    for (let i = 0; i < MAX_ENTRIES_PER_STORAGE + 4; i++) writeFileSync(join(source, `f${i}`), String(i));
    const target = join(runDir, "shared", "containers", "watchable", "c2-big");
    await manager.add([storageSpec({ driver: "watchable-bind", source, mountPoint: target })], "c2");
    expect(mountAt(target)).toMatchObject({ fstype: expect.any(String) });
    writeFileSync(join(source, "late"), "seen through the bind at once");
    expect(readFileSync(join(target, "late"), "utf8")).toBe("seen through the bind at once");
    await manager.release("c2");
    expect(mountAt(target)).toBeUndefined();
  });
});
