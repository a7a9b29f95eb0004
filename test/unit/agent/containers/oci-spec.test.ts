import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { SpecSchema } from "../../../../agent/gen/oci_pb.js";
import { fromRuntimeSpec } from "../../../../agent/src/client/index.js";
import { cgroupsPathFor, setNamespaces } from "../../../../agent/src/containers/namespaces.js";
import { toRuntimeSpec } from "../../../../agent/src/containers/oci-spec.js";
import { type RuntimeSpec, stringifyExact } from "../../../../agent/src/containers/runtime-spec.js";

/** A config.json using every field Kata's protobuf Spec carries. */
const full = {
  ociVersion: "1.0.2",
  process: {
    terminal: true,
    consoleSize: { height: 24, width: 80 },
    user: { uid: 1000, gid: 1000, additionalGids: [10, 20], username: "app" },
    args: ["/bin/app", "--flag"],
    env: ["PATH=/bin", "A=b"],
    cwd: "/work",
    capabilities: {
      bounding: ["CAP_KILL"],
      effective: ["CAP_KILL"],
      inheritable: ["CAP_CHOWN"],
      permitted: ["CAP_KILL"],
      ambient: ["CAP_NET_BIND_SERVICE"],
    },
    rlimits: [
      { type: "RLIMIT_NOFILE", hard: 1024n, soft: 1024n },
      { type: "RLIMIT_CORE", hard: 18446744073709551615n, soft: 18446744073709551615n },
    ],
    noNewPrivileges: true,
    apparmorProfile: "docker-default",
    oomScoreAdj: 500,
    selinuxLabel: "system_u:system_r:container_t:s0",
  },
  root: { path: "/run/kata-containers/c1/rootfs", readonly: true },
  hostname: "pod",
  mounts: [{ destination: "/proc", type: "proc", source: "proc", options: ["nosuid"] }],
  hooks: {
    prestart: [{ path: "/hook", args: ["hook", "pre"], env: ["X=1"], timeout: 5 }],
    createRuntime: [{ path: "/cr" }],
    createContainer: [{ path: "/cc" }],
    startContainer: [{ path: "/sc" }],
    poststart: [{ path: "/ps" }],
    poststop: [{ path: "/pst" }],
  },
  annotations: { "io.kubernetes.container.name": "app" },
  linux: {
    uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    sysctl: { "net.ipv4.ip_forward": "1" },
    resources: {
      devices: [
        { allow: false, access: "rwm" },
        { allow: true, type: "c", major: 1n, minor: 3n, access: "rwm" },
      ],
      memory: {
        limit: 268435456n,
        reservation: 1n,
        swap: 536870912n,
        kernel: 2n,
        kernelTCP: 3n,
        swappiness: 60n,
        disableOOMKiller: true,
      },
      cpu: {
        shares: 1024n,
        quota: -1n,
        period: 100000n,
        realtimeRuntime: 5n,
        realtimePeriod: 6n,
        cpus: "0-1",
        mems: "0",
      },
      pids: { limit: 100n },
      blockIO: {
        weight: 500,
        leafWeight: 300,
        weightDevice: [{ major: 8n, minor: 0n, weight: 400, leafWeight: 200 }],
        throttleReadBpsDevice: [{ major: 8n, minor: 0n, rate: 1000n }],
        throttleWriteBpsDevice: [{ major: 8n, minor: 0n, rate: 2000n }],
        throttleReadIOPSDevice: [{ major: 8n, minor: 0n, rate: 30n }],
        throttleWriteIOPSDevice: [{ major: 8n, minor: 0n, rate: 40n }],
      },
      hugepageLimits: [{ pageSize: "2MB", limit: 1048576n }],
      network: { classID: 7, priorities: [{ name: "eth0", priority: 2 }] },
    },
    cgroupsPath: "/kubepods/pod1/c1",
    namespaces: [{ type: "mount" }, { type: "ipc", path: "/proc/1/ns/ipc" }],
    devices: [{ path: "/dev/sda", type: "b", major: 8n, minor: 0n, fileMode: 432, uid: 0, gid: 6 }],
    seccomp: {
      defaultAction: "SCMP_ACT_ERRNO",
      architectures: ["SCMP_ARCH_X86_64"],
      flags: ["SECCOMP_FILTER_FLAG_LOG"],
      syscalls: [
        { names: ["read"], action: "SCMP_ACT_ALLOW" },
        {
          names: ["ptrace"],
          action: "SCMP_ACT_ERRNO",
          errnoRet: 0,
          args: [{ index: 0n, value: 1n, valueTwo: 2n, op: "SCMP_CMP_EQ" }],
        },
      ],
    },
    rootfsPropagation: "rslave",
    maskedPaths: ["/proc/kcore"],
    readonlyPaths: ["/proc/sys"],
    mountLabel: "system_u:object_r:container_file_t:s0",
    intelRdt: { l3CacheSchema: "L3:0=ff" },
  },
} satisfies RuntimeSpec;

describe("OCI spec conversion", () => {
  it("carries every field from config.json to protobuf and back unchanged", () => {
    const proto = create(SpecSchema, fromRuntimeSpec(JSON.parse(stringifyExact(full)) as unknown));
    expect(toRuntimeSpec(proto)).toEqual(full);
  });

  it("writes strings exactly, even one that spells a bigint placeholder", () => {
    const tricky = { ...full, annotations: { a: "\u0000bigint:5", b: '"\u0000bigint:6"', c: "1" } };
    const parsed = JSON.parse(stringifyExact(tricky, 2)) as RuntimeSpec;
    expect(parsed.annotations).toEqual(tricky.annotations);
    expect(parsed.process?.args).toEqual(full.process.args);
  });

  it("lays out JSON as JSON.stringify does, bigints aside", () => {
    const value = {
      a: 1,
      b: [1, "x", null, undefined, { c: true, d: undefined }],
      e: {},
      f: [],
      g: "tab\there \u2028 \ud800",
      u: undefined,
      when: new Date(0),
      nested: { deeper: [[1, 2], { k: "v" }] },
    };
    for (const indent of [undefined, 2, 4]) {
      expect(stringifyExact(value, indent)).toBe(JSON.stringify(value, null, indent));
    }
    expect(stringifyExact({ n: -3n, big: [2n ** 64n - 1n] })).toBe('{"n":-3,"big":[18446744073709551615]}');
  });

  it("keeps 2^64-1 (unlimited) exact in config.json", () => {
    const text = stringifyExact(full);
    expect(text).toContain('"hard":18446744073709551615');
    expect(JSON.parse(text.replace(/18446744073709551615/g, '"max"')).process.rlimits[1].hard).toBe("max");
  });

  it("keeps an explicit errno 0 apart from no errno", () => {
    const proto = create(SpecSchema, fromRuntimeSpec(full));
    const [allow, ptrace] = proto.Linux!.Seccomp!.Syscalls;
    expect(allow!.ErrnoRet.case).toBeUndefined();
    expect(ptrace!.ErrnoRet).toEqual({ case: "errnoret", value: 0 });
  });

  it("leaves out what proto3 cannot tell from unset, and keeps what the runtime requires", () => {
    const spec = toRuntimeSpec(
      create(SpecSchema, { Process: { Args: ["true"] }, Root: { Path: "/r" }, Linux: {} }),
    );
    expect(spec).toEqual({
      ociVersion: "1.0.2",
      process: { user: { uid: 0, gid: 0 }, args: ["true"], cwd: "/" },
      root: { path: "/r" },
    });
  });

  it("produces a config.json that runc itself reads back (runc spec template round trip)", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "spec-"));
    execFileSync("runc", ["spec", "--bundle", dir]);
    const template = JSON.parse(readFileSync(path.join(dir, "config.json"), "utf8")) as Record<
      string,
      unknown
    >;
    const back = JSON.parse(
      stringifyExact(toRuntimeSpec(create(SpecSchema, fromRuntimeSpec(template)))),
    ) as Record<string, unknown>;
    expect(back).toEqual(template);
  });
});

describe("pod namespaces and cgroups", () => {
  const base = (): RuntimeSpec => ({
    ociVersion: "1.0.2",
    hostname: "pod",
    linux: {
      namespaces: [
        { type: "pid" },
        { type: "network" },
        { type: "ipc" },
        { type: "uts" },
        { type: "mount" },
        { type: "cgroup" },
      ],
    },
  });

  it("gives the first container new namespaces and no network or cgroup namespace", () => {
    const spec = base();
    setNamespaces(spec, {}, false);
    expect(spec.linux?.namespaces).toEqual([
      { type: "ipc" },
      { type: "uts" },
      { type: "mount" },
      { type: "pid" },
    ]);
    expect(spec.hostname).toBe("pod");
  });

  it("makes later containers join the pod's IPC and UTS, and its PID namespace with sandbox_pidns", () => {
    const spec = base();
    setNamespaces(spec, { ownerPid: 42 }, true);
    expect(spec.linux?.namespaces).toEqual([
      { type: "ipc", path: "/proc/42/ns/ipc" },
      { type: "uts", path: "/proc/42/ns/uts" },
      { type: "mount" },
      { type: "pid", path: "/proc/42/ns/pid" },
    ]);
    expect(spec.hostname).toBeUndefined();
    const own = base();
    setNamespaces(own, { ownerPid: 42 }, false);
    expect(own.linux?.namespaces?.at(-1)).toEqual({ type: "pid" });
  });

  it("maps systemd cgroup paths to cgroupfs ones", () => {
    expect(cgroupsPathFor("", "c1")).toBe("/kata/c1");
    expect(cgroupsPathFor("/kubepods/besteffort/pod1/c1", "c1")).toBe("/kubepods/besteffort/pod1/c1");
    expect(cgroupsPathFor("kubepods-besteffort-pod1.slice:cri-containerd:c1", "c1")).toBe(
      "/kubepods-besteffort-pod1.slice/cri-containerd-c1",
    );
    expect(cgroupsPathFor("relative/path", "c1")).toBe("/relative/path");
  });
});
