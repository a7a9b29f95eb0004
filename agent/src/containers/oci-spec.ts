// Kata's protobuf OCI Spec <-> the runtime-spec config.json crun and runc read, field for field.
// Proto3 cannot tell "unset" from zero, so zeros, empty strings and empty lists are left out
// of config.json, as the Go runtime's omitempty would; required fields always appear.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  Hook,
  Hooks,
  Linux,
  LinuxResources,
  LinuxResourcesSchema,
  LinuxThrottleDevice,
  Process,
  Spec,
  SpecSchema,
} from "../../gen/oci_pb.js";
import type {
  HookName,
  RuntimeHook,
  RuntimeLinux,
  RuntimeProcess,
  RuntimeResources,
  RuntimeSpec,
  ThrottleDevice,
} from "./runtime-spec.js";

/** Drops undefined, empty-string, false, zero and empty-list members. */
function compact<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || v === "" || v === false || v === 0 || v === 0n) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out as T;
}

const HOOKS: [keyof Omit<Hooks, "$typeName" | "$unknown">, HookName][] = [
  ["Prestart", "prestart"],
  ["CreateRuntime", "createRuntime"],
  ["CreateContainer", "createContainer"],
  ["StartContainer", "startContainer"],
  ["Poststart", "poststart"],
  ["Poststop", "poststop"],
];

export function toRuntimeSpec(spec: Spec): RuntimeSpec {
  const hooks: Partial<Record<HookName, RuntimeHook[]>> = {};
  for (const [from, to] of HOOKS) {
    const list = spec.Hooks?.[from] ?? [];
    if (list.length) hooks[to] = list.map(toHook);
  }
  return compact({
    ociVersion: spec.Version || "1.0.2",
    process: spec.Process ? toProcess(spec.Process) : undefined,
    root: spec.Root ? compact({ path: spec.Root.Path, readonly: spec.Root.Readonly }) : undefined,
    hostname: spec.Hostname,
    mounts: spec.Mounts.map((m) =>
      compact({ destination: m.destination, type: m.type, source: m.source, options: m.options }),
    ),
    hooks,
    annotations: spec.Annotations,
    linux: spec.Linux ? toLinux(spec.Linux) : undefined,
  });
}

function toHook(h: Hook): RuntimeHook {
  return compact({ path: h.Path, args: h.Args, env: h.Env, timeout: Number(h.Timeout) });
}

export function toProcess(p: Process): RuntimeProcess {
  const caps = p.Capabilities;
  return compact({
    terminal: p.Terminal,
    consoleSize:
      p.ConsoleSize && (p.ConsoleSize.Height || p.ConsoleSize.Width)
        ? { height: p.ConsoleSize.Height, width: p.ConsoleSize.Width }
        : undefined,
    // uid and gid 0 are meaningful: user is built without compact() dropping them.
    user: {
      uid: p.User?.UID ?? 0,
      gid: p.User?.GID ?? 0,
      ...(p.User?.AdditionalGids.length ? { additionalGids: p.User.AdditionalGids } : {}),
      ...(p.User?.Username ? { username: p.User.Username } : {}),
    },
    args: p.Args,
    env: p.Env,
    cwd: p.Cwd || "/",
    capabilities: caps
      ? compact({
          bounding: caps.Bounding,
          effective: caps.Effective,
          inheritable: caps.Inheritable,
          permitted: caps.Permitted,
          ambient: caps.Ambient,
        })
      : undefined,
    rlimits: p.Rlimits.map((r) => ({ type: r.Type, hard: r.Hard, soft: r.Soft })),
    noNewPrivileges: p.NoNewPrivileges,
    apparmorProfile: p.ApparmorProfile,
    oomScoreAdj: Number(p.OOMScoreAdj),
    selinuxLabel: p.SelinuxLabel,
  });
}

const throttle = (list: LinuxThrottleDevice[]): ThrottleDevice[] =>
  list.map((d) => ({ major: d.Major, minor: d.Minor, rate: d.Rate }));

export function toResources(r: LinuxResources): RuntimeResources {
  return compact({
    devices: r.Devices.map((d) => ({
      allow: d.Allow,
      ...compact({ type: d.Type, access: d.Access }),
      // An absent major/minor is a wildcard in the runtime-spec; the protobuf spells it -1.
      ...(d.Type === "b" || d.Type === "c"
        ? { ...(d.Major !== -1n ? { major: d.Major } : {}), ...(d.Minor !== -1n ? { minor: d.Minor } : {}) }
        : {}),
    })),
    memory: r.Memory
      ? compact({
          limit: r.Memory.Limit,
          reservation: r.Memory.Reservation,
          swap: r.Memory.Swap,
          kernel: r.Memory.Kernel,
          kernelTCP: r.Memory.KernelTCP,
          swappiness: r.Memory.Swappiness,
          disableOOMKiller: r.Memory.DisableOOMKiller,
        })
      : undefined,
    cpu: r.CPU
      ? compact({
          shares: r.CPU.Shares,
          quota: r.CPU.Quota,
          period: r.CPU.Period,
          realtimeRuntime: r.CPU.RealtimeRuntime,
          realtimePeriod: r.CPU.RealtimePeriod,
          cpus: r.CPU.Cpus,
          mems: r.CPU.Mems,
        })
      : undefined,
    pids: r.Pids && r.Pids.Limit !== 0n ? { limit: r.Pids.Limit } : undefined,
    blockIO: r.BlockIO
      ? compact({
          weight: r.BlockIO.Weight,
          leafWeight: r.BlockIO.LeafWeight,
          // Device 8:0 is real: major and minor are never dropped.
          weightDevice: r.BlockIO.WeightDevice.map((d) => ({
            major: d.Major,
            minor: d.Minor,
            ...compact({ weight: d.Weight, leafWeight: d.LeafWeight }),
          })),
          throttleReadBpsDevice: throttle(r.BlockIO.ThrottleReadBpsDevice),
          throttleWriteBpsDevice: throttle(r.BlockIO.ThrottleWriteBpsDevice),
          throttleReadIOPSDevice: throttle(r.BlockIO.ThrottleReadIOPSDevice),
          throttleWriteIOPSDevice: throttle(r.BlockIO.ThrottleWriteIOPSDevice),
        })
      : undefined,
    hugepageLimits: r.HugepageLimits.map((h) => ({ pageSize: h.Pagesize, limit: h.Limit })),
    network: r.Network
      ? compact({
          classID: r.Network.ClassID,
          priorities: r.Network.Priorities.map((p) => ({ name: p.Name, priority: p.Priority })),
        })
      : undefined,
  });
}

function toLinux(l: Linux): RuntimeLinux {
  const ids = (m: Linux["UIDMappings"]) =>
    m.map((x) => ({ containerID: x.ContainerID, hostID: x.HostID, size: x.Size }));
  return compact({
    uidMappings: ids(l.UIDMappings),
    gidMappings: ids(l.GIDMappings),
    sysctl: l.Sysctl,
    resources: l.Resources ? toResources(l.Resources) : undefined,
    cgroupsPath: l.CgroupsPath,
    namespaces: l.Namespaces.map((n) => compact({ type: n.Type, path: n.Path })),
    devices: l.Devices.map((d) => ({
      path: d.Path,
      type: d.Type,
      major: d.Major,
      minor: d.Minor,
      ...compact({ fileMode: d.FileMode }),
      uid: d.UID,
      gid: d.GID,
    })),
    seccomp: l.Seccomp
      ? compact({
          defaultAction: l.Seccomp.DefaultAction,
          architectures: l.Seccomp.Architectures,
          flags: l.Seccomp.Flags,
          syscalls: l.Seccomp.Syscalls.map((s) => ({
            ...compact({
              names: s.Names,
              action: s.Action,
              args: s.Args.map((a) => ({
                index: a.Index,
                value: a.Value,
                ...compact({ valueTwo: a.ValueTwo }),
                op: a.Op,
              })),
            }),
            // The oneof keeps an explicit errno 0 apart from "not set".
            ...(s.ErrnoRet.case === "errnoret" ? { errnoRet: s.ErrnoRet.value } : {}),
          })),
        })
      : undefined,
    rootfsPropagation: l.RootfsPropagation,
    maskedPaths: l.MaskedPaths,
    readonlyPaths: l.ReadonlyPaths,
    mountLabel: l.MountLabel,
    intelRdt: l.IntelRdt ? compact({ l3CacheSchema: l.IntelRdt.L3CacheSchema }) : undefined,
  });
}

// ---- The other way: config.json -> protobuf Spec (kata-agent-ctl --bundle, tests) ----

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {};
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const strs = (v: unknown): string[] => arr(v).map(str);
const num = (v: unknown): number => (typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : 0);
/** 64-bit values; anything at or above 2^64 - 2^11 (beyond a double's precision) is taken as 2^64-1. */
const big = (v: unknown): bigint => {
  if (typeof v === "bigint") return v;
  if (typeof v !== "number" || !Number.isFinite(v)) return 0n;
  return v >= 2 ** 64 - 2 ** 11 ? 18446744073709551615n : BigInt(Math.trunc(v));
};

export function fromRuntimeSpec(value: unknown): MessageInitShape<typeof SpecSchema> {
  const s = obj(value);
  const p = obj(s.process);
  const user = obj(p.user);
  const caps = obj(p.capabilities);
  const linux = obj(s.linux);
  const hooks = obj(s.hooks);
  const hookList = (name: HookName) =>
    arr(hooks[name]).map((h) => {
      const o = obj(h);
      return { Path: str(o.path), Args: strs(o.args), Env: strs(o.env), Timeout: big(o.timeout) };
    });
  const ids = (v: unknown) =>
    arr(v).map((m) => ({
      ContainerID: num(obj(m).containerID),
      HostID: num(obj(m).hostID),
      Size: num(obj(m).size),
    }));
  const seccomp = obj(linux.seccomp);
  return {
    Version: str(s.ociVersion),
    ...(s.process
      ? {
          Process: {
            Terminal: p.terminal === true,
            ...(p.consoleSize
              ? {
                  ConsoleSize: {
                    Height: num(obj(p.consoleSize).height),
                    Width: num(obj(p.consoleSize).width),
                  },
                }
              : {}),
            User: {
              UID: num(user.uid),
              GID: num(user.gid),
              AdditionalGids: arr(user.additionalGids).map(num),
              Username: str(user.username),
            },
            Args: strs(p.args),
            Env: strs(p.env),
            Cwd: str(p.cwd),
            ...(p.capabilities
              ? {
                  Capabilities: {
                    Bounding: strs(caps.bounding),
                    Effective: strs(caps.effective),
                    Inheritable: strs(caps.inheritable),
                    Permitted: strs(caps.permitted),
                    Ambient: strs(caps.ambient),
                  },
                }
              : {}),
            Rlimits: arr(p.rlimits).map((r) => ({
              Type: str(obj(r).type),
              Hard: big(obj(r).hard),
              Soft: big(obj(r).soft),
            })),
            NoNewPrivileges: p.noNewPrivileges === true,
            ApparmorProfile: str(p.apparmorProfile),
            OOMScoreAdj: big(p.oomScoreAdj),
            SelinuxLabel: str(p.selinuxLabel),
          },
        }
      : {}),
    ...(s.root ? { Root: { Path: str(obj(s.root).path), Readonly: obj(s.root).readonly === true } } : {}),
    Hostname: str(s.hostname),
    Mounts: arr(s.mounts).map((m) => ({
      destination: str(obj(m).destination),
      source: str(obj(m).source),
      type: str(obj(m).type),
      options: strs(obj(m).options),
    })),
    ...(s.hooks
      ? {
          Hooks: {
            Prestart: hookList("prestart"),
            CreateRuntime: hookList("createRuntime"),
            CreateContainer: hookList("createContainer"),
            StartContainer: hookList("startContainer"),
            Poststart: hookList("poststart"),
            Poststop: hookList("poststop"),
          },
        }
      : {}),
    Annotations: Object.fromEntries(Object.entries(obj(s.annotations)).map(([k, v]) => [k, str(v)])),
    ...(s.linux
      ? {
          Linux: {
            UIDMappings: ids(linux.uidMappings),
            GIDMappings: ids(linux.gidMappings),
            Sysctl: Object.fromEntries(Object.entries(obj(linux.sysctl)).map(([k, v]) => [k, str(v)])),
            ...(linux.resources ? { Resources: fromResources(linux.resources) } : {}),
            CgroupsPath: str(linux.cgroupsPath),
            Namespaces: arr(linux.namespaces).map((n) => ({
              Type: str(obj(n).type),
              Path: str(obj(n).path),
            })),
            Devices: arr(linux.devices).map((d) => ({
              Path: str(obj(d).path),
              Type: str(obj(d).type),
              Major: big(obj(d).major),
              Minor: big(obj(d).minor),
              FileMode: num(obj(d).fileMode),
              UID: num(obj(d).uid),
              GID: num(obj(d).gid),
            })),
            ...(linux.seccomp
              ? {
                  Seccomp: {
                    DefaultAction: str(seccomp.defaultAction),
                    Architectures: strs(seccomp.architectures),
                    Flags: strs(seccomp.flags),
                    Syscalls: arr(seccomp.syscalls).map((x) => {
                      const sc = obj(x);
                      return {
                        Names: strs(sc.names),
                        Action: str(sc.action),
                        ErrnoRet:
                          typeof sc.errnoRet === "number"
                            ? { case: "errnoret" as const, value: sc.errnoRet }
                            : { case: undefined },
                        Args: arr(sc.args).map((a) => ({
                          Index: big(obj(a).index),
                          Value: big(obj(a).value),
                          ValueTwo: big(obj(a).valueTwo),
                          Op: str(obj(a).op),
                        })),
                      };
                    }),
                  },
                }
              : {}),
            RootfsPropagation: str(linux.rootfsPropagation),
            MaskedPaths: strs(linux.maskedPaths),
            ReadonlyPaths: strs(linux.readonlyPaths),
            MountLabel: str(linux.mountLabel),
            ...(linux.intelRdt
              ? { IntelRdt: { L3CacheSchema: str(obj(linux.intelRdt).l3CacheSchema) } }
              : {}),
          },
        }
      : {}),
  };
}

export function fromResources(value: unknown): MessageInitShape<typeof LinuxResourcesSchema> {
  const r = obj(value);
  const mem = obj(r.memory);
  const cpu = obj(r.cpu);
  const blk = obj(r.blockIO);
  const thr = (v: unknown) =>
    arr(v).map((d) => ({ Major: big(obj(d).major), Minor: big(obj(d).minor), Rate: big(obj(d).rate) }));
  return {
    Devices: arr(r.devices).map((d) => ({
      Allow: obj(d).allow === true,
      Type: str(obj(d).type),
      Major: obj(d).major === undefined ? -1n : big(obj(d).major),
      Minor: obj(d).minor === undefined ? -1n : big(obj(d).minor),
      Access: str(obj(d).access),
    })),
    ...(r.memory
      ? {
          Memory: {
            Limit: big(mem.limit),
            Reservation: big(mem.reservation),
            Swap: big(mem.swap),
            Kernel: big(mem.kernel),
            KernelTCP: big(mem.kernelTCP),
            Swappiness: big(mem.swappiness),
            DisableOOMKiller: mem.disableOOMKiller === true,
          },
        }
      : {}),
    ...(r.cpu
      ? {
          CPU: {
            Shares: big(cpu.shares),
            Quota: big(cpu.quota),
            Period: big(cpu.period),
            RealtimeRuntime: big(cpu.realtimeRuntime),
            RealtimePeriod: big(cpu.realtimePeriod),
            Cpus: str(cpu.cpus),
            Mems: str(cpu.mems),
          },
        }
      : {}),
    ...(r.pids ? { Pids: { Limit: big(obj(r.pids).limit) } } : {}),
    ...(r.blockIO
      ? {
          BlockIO: {
            Weight: num(blk.weight),
            LeafWeight: num(blk.leafWeight),
            WeightDevice: arr(blk.weightDevice).map((d) => ({
              Major: big(obj(d).major),
              Minor: big(obj(d).minor),
              Weight: num(obj(d).weight),
              LeafWeight: num(obj(d).leafWeight),
            })),
            ThrottleReadBpsDevice: thr(blk.throttleReadBpsDevice),
            ThrottleWriteBpsDevice: thr(blk.throttleWriteBpsDevice),
            ThrottleReadIOPSDevice: thr(blk.throttleReadIOPSDevice),
            ThrottleWriteIOPSDevice: thr(blk.throttleWriteIOPSDevice),
          },
        }
      : {}),
    HugepageLimits: arr(r.hugepageLimits).map((h) => ({
      Pagesize: str(obj(h).pageSize),
      Limit: big(obj(h).limit),
    })),
    ...(r.network
      ? {
          Network: {
            ClassID: num(obj(r.network).classID),
            Priorities: arr(obj(r.network).priorities).map((p) => ({
              Name: str(obj(p).name),
              Priority: num(obj(p).priority),
            })),
          },
        }
      : {}),
  };
}
