import { describe, expect, it } from "vitest";
import { native } from "../../../../agent/src/native/index.js";
import {
  flagsOfMountinfo,
  MS,
  optionValues,
  parseMountOptions,
  remountFlags,
  withoutOptions,
} from "../../../../agent/src/storage/mount-options.js";
import { parseMountinfo } from "../../../../agent/src/storage/mountinfo.js";

describe("parseMountOptions", () => {
  it("splits flags from filesystem data, in order, like util-linux", () => {
    expect(parseMountOptions(["noexec", "nosuid", "nodev", "mode=1777", "size=65536"])).toEqual({
      flags: MS.NOEXEC | MS.NOSUID | MS.NODEV,
      propagation: 0,
      data: "mode=1777,size=65536",
      cleared: 0,
    });
    // Later options undo earlier ones.
    expect(parseMountOptions(["ro", "rw", "noexec", "exec", "noatime"]).flags).toBe(MS.NOATIME);
  });

  it("splits entries at unescaped commas, as the runtime sends 9p options in one entry", () => {
    expect(parseMountOptions(["trans=virtio,version=9p2000.L,cache=mmap", "nodev", "msize=512000"])).toEqual({
      flags: MS.NODEV,
      propagation: 0,
      data: "trans=virtio,version=9p2000.L,cache=mmap,msize=512000",
      cleared: 0,
    });
    expect(parseMountOptions(["lowerdir=/a\\,b:/c"]).data).toBe("lowerdir=/a\\,b:/c");
  });

  it("keeps propagation for a second call and MS_REC with the bind it belongs to", () => {
    expect(parseMountOptions(["rbind", "rprivate", "ro"])).toEqual({
      flags: MS.BIND | MS.REC | MS.RDONLY,
      propagation: MS.PRIVATE | MS.REC,
      data: "",
      cleared: 0,
    });
    expect(parseMountOptions(["rshared"])).toEqual({
      flags: 0,
      propagation: MS.SHARED | MS.REC,
      data: "",
      cleared: 0,
    });
  });

  it("drops fstab-only options and refuses loop", () => {
    expect(parseMountOptions(["defaults", "nofail", "x-systemd.automount", "noauto"])).toEqual({
      flags: 0,
      propagation: 0,
      data: "",
      cleared: 0,
    });
    expect(() => parseMountOptions(["loop"])).toThrow(expect.objectContaining({ kind: "invalid-input" }));
  });

  it("refuses a data string longer than a page", () => {
    expect(() => parseMountOptions([`lowerdir=${"x".repeat(5000)}`])).toThrow(/at most 4095/);
  });

  it("uses the same MS_* numbers as the kernel headers the addon was built with", () => {
    const n = native();
    expect([MS.RDONLY, MS.NOSUID, MS.NODEV, MS.NOEXEC, MS.REMOUNT, MS.BIND, MS.REC]).toEqual([
      n.MS_RDONLY,
      n.MS_NOSUID,
      n.MS_NODEV,
      n.MS_NOEXEC,
      n.MS_REMOUNT,
      n.MS_BIND,
      n.MS_REC,
    ]);
    expect([MS.PRIVATE, MS.SLAVE, MS.SHARED, MS.STRICTATIME, MS.RELATIME, MS.MOVE]).toEqual([
      n.MS_PRIVATE,
      n.MS_SLAVE,
      n.MS_SHARED,
      n.MS_STRICTATIME,
      n.MS_RELATIME,
      n.MS_MOVE,
    ]);
  });
});

describe("option helpers", () => {
  it("reads key=value options and removes the agent's own", () => {
    expect(optionValues(["size=1m,mode=0755", "fsgid=3000", "nodev"])).toEqual(
      new Map([
        ["size", "1m"],
        ["mode", "0755"],
        ["fsgid", "3000"],
      ]),
    );
    expect(withoutOptions(["size=1m,fsgid=3000", "nodev"], (o) => o.startsWith("fsgid="))).toEqual([
      "size=1m",
      "nodev",
    ]);
  });

  it("keeps a mount's flags on remount unless an option turns them off", () => {
    const current = "rw,nosuid,nodev,noexec,relatime";
    expect(remountFlags(parseMountOptions(["remount", "size=4M"]), current)).toBe(
      MS.REMOUNT | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RELATIME,
    );
    expect(remountFlags(parseMountOptions(["remount", "exec", "ro"]), current)).toBe(
      MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.RELATIME,
    );
  });

  it("turns mountinfo's per-mount options back into flags for a remount", () => {
    expect(flagsOfMountinfo("ro,nosuid,nodev,noexec,relatime")).toBe(
      MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RELATIME,
    );
    expect(flagsOfMountinfo("rw,relatime")).toBe(MS.RELATIME);
  });
});

describe("parseMountinfo", () => {
  it("reads mount point, options, fstype and source, undoing octal escapes", () => {
    const text =
      "36 35 98:0 / /mnt/with\\040space rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n" +
      "40 36 0:45 / /run/kata rw,nosuid,nodev shared:2 - tmpfs tmpfs rw,size=1024k,mode=755\n";
    expect(parseMountinfo(text)).toEqual([
      {
        mountPoint: "/mnt/with space",
        options: "rw,noatime",
        fstype: "ext3",
        source: "/dev/root",
        superOptions: "rw,errors=continue",
      },
      {
        mountPoint: "/run/kata",
        options: "rw,nosuid,nodev",
        fstype: "tmpfs",
        source: "tmpfs",
        superOptions: "rw,size=1024k,mode=755",
      },
    ]);
  });
});
