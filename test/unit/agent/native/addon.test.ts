import { execFileSync } from "node:child_process";
import { getSystemErrorName } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { locateNative, native } from "../../../../agent/src/native/index.js";

beforeAll(() => {
  execFileSync(process.execPath, [new URL("../../../../agent/native/build.mjs", import.meta.url).pathname]);
});

describe("loading the addon", () => {
  it("finds the dev build and exposes every function and constant", () => {
    expect(locateNative()).toMatch(/agent\/native\/build\/kata_native\.node$/);
    const addon = native();
    expect(addon).toBe(native()); // loaded once
    expect(typeof addon.vsockListen).toBe("function");
    expect(addon.MS_RDONLY).toBe(1);
    expect(addon.MS_BIND).toBe(4096);
    expect(addon.MS_REC).toBe(16384);
    expect(addon.MS_PRIVATE).toBe(1 << 18);
    expect(addon.MNT_DETACH).toBe(2);
  });

  it("takes KATA_AGENT_NATIVE alone when it is set", () => {
    const saved = process.env.KATA_AGENT_NATIVE;
    try {
      process.env.KATA_AGENT_NATIVE = "/nonexistent/kata_native.node";
      expect(() => locateNative()).toThrow(/KATA_AGENT_NATIVE=.*npm run build:native/);
    } finally {
      if (saved === undefined) delete process.env.KATA_AGENT_NATIVE;
      else process.env.KATA_AGENT_NATIVE = saved;
    }
  });
});

describe("errors", () => {
  it("are shaped like Node system errors", () => {
    let error: unknown;
    try {
      native().umount(new URL(".", import.meta.url).pathname, 0); // not a mount point: EINVAL
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      code: "EINVAL",
      errno: -22,
      syscall: "umount2",
      message: "umount2: EINVAL (Invalid argument)",
    });
    expect(getSystemErrorName((error as NodeJS.ErrnoException).errno ?? 0)).toBe("EINVAL");
  });

  it("name the errno the kernel returned", () => {
    expect(() => native().umount("/nonexistent/kata-native", 0)).toThrow(
      expect.objectContaining({ code: "ENOENT", errno: -2, syscall: "umount2" }),
    );
    expect(() => native().setWinsize(0x7fff_0000, 24, 80)).toThrow(
      expect.objectContaining({ code: "EBADF", syscall: "ioctl" }),
    );
  });

  it("reject bad arguments before any system call", () => {
    const addon = native();
    // @ts-expect-error: the types reject it too; this checks the addon's own guard
    expect(() => addon.setPipeSize("3", 4096)).toThrow(
      expect.objectContaining({ name: "TypeError", code: "ERR_INVALID_ARG_TYPE" }),
    );
    expect(() => addon.setPipeSize(1.5, 4096)).toThrow(
      expect.objectContaining({ name: "RangeError", code: "ERR_OUT_OF_RANGE" }),
    );
    expect(() => addon.vsockListen(-1, 2 ** 32, 1)).toThrow(/port must be an integer in \[-1, 4294967295\]/);
    // @ts-expect-error: as above
    expect(() => addon.vsockListen(-1, 1)).toThrow(expect.objectContaining({ code: "ERR_MISSING_ARGS" }));
    // @ts-expect-error: as above
    expect(() => addon.mount("none", "/x", "tmpfs", 0, 7)).toThrow(/data must be a string/);
  });
});
