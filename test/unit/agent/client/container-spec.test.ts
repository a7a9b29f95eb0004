import { describe, expect, it } from "vitest";
import {
  capabilityName,
  containerSpec,
  DEFAULT_CAPABILITIES,
  processSpec,
  runtimeSpec,
} from "../../../../agent/src/client/index.js";

describe("a container spec from a short description", () => {
  it("fills in containerd's defaults around the command", () => {
    const spec = runtimeSpec({ rootfs: "/r", args: ["sh", "-c", "echo hi"] }) as {
      process: {
        args: string[];
        env: string[];
        cwd: string;
        user: unknown;
        capabilities: { effective: string[] };
      };
      root: unknown;
      linux: { namespaces: { type: string }[]; maskedPaths: string[] };
      mounts: { destination: string }[];
    };
    expect(spec.process.args).toEqual(["sh", "-c", "echo hi"]);
    expect(spec.process.env).toEqual(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]);
    expect(spec.process.cwd).toBe("/");
    expect(spec.process.user).toEqual({ uid: 0, gid: 0 });
    expect(spec.process.capabilities.effective).toEqual(DEFAULT_CAPABILITIES);
    expect(spec.root).toEqual({ path: "/r", readonly: false });
    expect(spec.linux.namespaces.map((n) => n.type)).toEqual(["pid", "ipc", "uts", "mount"]);
    expect(spec.linux.maskedPaths).toContain("/proc/kcore");
    expect(spec.mounts.map((m) => m.destination)).toEqual([
      "/proc",
      "/dev",
      "/dev/pts",
      "/dev/shm",
      "/dev/mqueue",
      "/sys",
    ]);
  });

  it("applies environment, user, capabilities and a terminal", () => {
    const process_ = processSpec({
      args: ["id"],
      env: ["FOO=bar", "PATH=/bin"],
      user: "1000:100",
      addCapabilities: ["net_admin", "CAP_SYS_TIME"],
      dropCapabilities: ["ALL"],
      terminal: true,
      cwd: "/tmp",
    });
    expect(process_.Env).toEqual(["FOO=bar", "PATH=/bin", "TERM=xterm"]);
    expect(process_.User).toMatchObject({ UID: 1000, GID: 100 });
    expect(process_.Capabilities?.Effective).toEqual(["CAP_NET_ADMIN", "CAP_SYS_TIME"]);
    expect(process_.Terminal).toBe(true);
    expect(process_.Cwd).toBe("/tmp");
    const dropped = containerSpec({ rootfs: "/r", args: ["x"], dropCapabilities: ["kill"] });
    expect(dropped.Process?.Capabilities?.Bounding).not.toContain("CAP_KILL");
    expect(dropped.Process?.Capabilities?.Bounding).toHaveLength(DEFAULT_CAPABILITIES.length - 1);
  });

  it("binds guest paths read-only after the standard mounts", () => {
    const spec = containerSpec({
      rootfs: "/r",
      args: ["true"],
      readonlyBinds: { "/etc/os-release": "/etc/os-release", "/probe": "/run/probe" },
    });
    const binds = (spec.Mounts ?? []).filter((m) => m.type === "bind");
    expect(binds.map((m) => [m.destination, m.source, m.options])).toEqual([
      ["/etc/os-release", "/etc/os-release", ["rbind", "ro"]],
      ["/probe", "/run/probe", ["rbind", "ro"]],
    ]);
    expect(spec.Mounts?.at(-1)?.destination).toBe("/probe");
  });

  it("says what is wrong with a bad description", () => {
    expect(() => processSpec({ args: [] })).toThrow(/no command given/);
    expect(() => processSpec({ args: ["x"], user: "root" })).toThrow(/UID or UID:GID/);
    expect(() => processSpec({ args: ["x"], env: ["NOEQUALS"] })).toThrow(/must be NAME=value/);
    expect(() => capabilityName("net-admin")).toThrow(/not a capability name/);
  });
});
