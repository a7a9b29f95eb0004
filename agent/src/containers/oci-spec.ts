// Kata's protobuf OCI Spec -> the runtime-spec config.json crun and runc read, field for field.
// Proto3 cannot tell "unset" from zero, so zeros, empty strings and empty lists are left out
// of config.json, as the Go runtime's omitempty would; required fields always appear. (The
// other way, config.json -> Spec, is the client's job: client/spec.ts.)
import type {
  Hook,
  Hooks,
  Linux,
  LinuxResources,
  LinuxThrottleDevice,
  Process,
  Spec,
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
