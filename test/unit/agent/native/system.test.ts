import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { locateNative, native } from "../../../../agent/src/native/index.js";

beforeAll(() => {
  execFileSync(process.execPath, [new URL("../../../../agent/native/build.mjs", import.meta.url).pathname]);
});

const dir = mkdtempSync(join(tmpdir(), "kata-native-system-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a Node snippet (with the addon as `n`) under `unshare`, so it cannot touch this machine. */
function inNamespace(unshareFlags: string[], script: string, arg: string) {
  return spawnSync("unshare", [...unshareFlags, process.execPath, "-e", script, arg], {
    encoding: "utf8",
    env: { ...process.env, KATA_AGENT_NATIVE: locateNative() },
    timeout: 20_000,
  });
}

/** The mountinfo line for `target` (mount point is field 5, fstype follows " - "), if mounted. */
function mountOf(target: string): { options: string; fstype: string } | undefined {
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [left = "", right = ""] = line.split(" - ");
    const fields = left.split(" ");
    if (fields[4] === target) return { options: fields[5] ?? "", fstype: right.split(" ")[0] ?? "" };
  }
  return undefined;
}

describe("mount + umount", () => {
  it("mounts a tmpfs with flags and data, remounts it read-only, and unmounts it", () => {
    const n = native();
    const target = join(dir, "tmpfs");
    mkdirSync(target);
    n.mount("kata-test", target, "tmpfs", n.MS_NOSUID | n.MS_NODEV, "size=1m,mode=0700");
    try {
      expect(mountOf(target)).toEqual({
        fstype: "tmpfs",
        options: expect.stringMatching(/^rw,nosuid,nodev/),
      });
      writeFileSync(join(target, "file"), "x");
      n.mount("", target, "", n.MS_REMOUNT | n.MS_RDONLY | n.MS_NOSUID | n.MS_NODEV, "");
      expect(mountOf(target)?.options).toMatch(/^ro,/);
      expect(() => writeFileSync(join(target, "other"), "x")).toThrow(
        expect.objectContaining({ code: "EROFS" }),
      );
      n.umount(target, 0);
      expect(mountOf(target)).toBeUndefined();
    } finally {
      if (mountOf(target)) n.umount(target, n.MNT_DETACH);
    }
  });

  it("reports the kernel's refusal", () => {
    expect(() => native().mount("none", join(dir, "missing"), "tmpfs", 0, "")).toThrow(
      expect.objectContaining({ code: "ENOENT", syscall: "mount" }),
    );
    expect(() => native().mount("none", dir, "no-such-fs", 0, "")).toThrow(
      expect.objectContaining({ code: "ENODEV", syscall: "mount" }),
    );
  });
});

describe("sethostname", () => {
  it("sets the hostname (in a private UTS namespace)", () => {
    const r = inNamespace(
      ["--uts"],
      `require(process.env.KATA_AGENT_NATIVE).sethostname(process.argv[1]); console.log(require("os").hostname())`,
      "kata-native-test",
    );
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("kata-native-test");
    expect(hostname()).not.toBe("kata-native-test");
  });
});

describe("linkUp", () => {
  it("brings an interface up (lo of a fresh network namespace), read back with ip", () => {
    const r = inNamespace(
      ["--net"],
      `const { execFileSync } = require("child_process");
       const state = () => JSON.parse(execFileSync("ip", ["-json", "link", "show", "lo"]))[0].flags.includes("UP");
       const before = state();
       require(process.env.KATA_AGENT_NATIVE).linkUp(process.argv[1]);
       console.log(JSON.stringify({ before, after: state() }));`,
      "lo",
    );
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ before: false, after: true });
  });

  it("names the interface the kernel does not know", () => {
    expect(() => native().linkUp("kata-no-such0")).toThrow(
      expect.objectContaining({ code: "ENODEV", syscall: "SIOCGIFFLAGS" }),
    );
  });
});

describe("reboot", () => {
  // In a PID namespace other than the first, reboot(2) ends the namespace: its init dies of SIGINT
  // for power-off and halt, of SIGHUP for restart, and `unshare -f` re-raises that signal.
  // The snippet refuses to run unless it is PID 1 of a fresh namespace.
  const script = `
    if (process.pid !== 1) { console.error("not in a new PID namespace; refusing to reboot"); process.exit(3); }
    require(process.env.KATA_AGENT_NATIVE).reboot(process.argv[1]);
  `;
  it.each([
    ["poweroff", "SIGINT"],
    ["halt", "SIGINT"],
    ["restart", "SIGHUP"],
  ] as const)("%s asks the kernel for the matching command", (mode, signal) => {
    const r = inNamespace(["--pid", "--fork"], script, mode);
    expect(r.stderr).toBe("");
    expect(r.signal).toBe(signal);
  });

  it("rejects an unknown mode without calling the kernel", () => {
    // @ts-expect-error: the types reject it too; this checks the addon's own guard
    expect(() => native().reboot("kexec")).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }),
    );
  });
});

describe("settimeofday, swapon, addRandomEntropy", () => {
  // Setting the real clock would disturb everything else on this machine; the kernel's argument
  // check still proves the call reaches it.
  it("settimeofday hands the time to the kernel, which validates it", () => {
    expect(() => native().settimeofday(Math.floor(Date.now() / 1000), 1_000_000)).toThrow(
      expect.objectContaining({ code: "EINVAL", syscall: "settimeofday" }),
    );
  });

  it("swapon refuses a file without a swap signature", () => {
    const file = join(dir, "not-swap");
    writeFileSync(file, Buffer.alloc(64 * 1024));
    expect(() => native().swapon(file, 0)).toThrow(
      expect.objectContaining({ code: "EINVAL", syscall: "swapon" }),
    );
    expect(() => native().swapon(join(dir, "missing"), 0)).toThrow(
      expect.objectContaining({ code: "ENOENT" }),
    );
  });

  it("addRandomEntropy feeds and credits the pool, which only root may credit", () => {
    const seed = new Uint8Array(64).map((_, i) => (i * 73) & 0xff);
    expect(() => native().addRandomEntropy(seed)).not.toThrow();
    expect(() => native().addRandomEntropy(new Uint8Array(0))).not.toThrow();
    // Anyone may write to /dev/random; the credit ioctl is what needs CAP_SYS_ADMIN.
    const asNobody = spawnSync(
      process.execPath,
      [
        "-e",
        `const n = require(process.env.KATA_AGENT_NATIVE); process.setgid(65534); process.setuid(65534);
              try { n.addRandomEntropy(new Uint8Array(8)); } catch (e) { console.log(e.code, e.syscall); }`,
      ],
      { encoding: "utf8", env: { ...process.env, KATA_AGENT_NATIVE: locateNative() } },
    );
    expect(asNobody.stdout.trim()).toBe("EPERM ioctl");
    // @ts-expect-error: the types reject it too; this checks the addon's own guard
    expect(() => native().addRandomEntropy([1, 2, 3])).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARG_TYPE" }),
    );
  });
});
