// The client's side of the OCI spec: a runtime-spec config.json (as `runc spec` writes it) to
// Kata's protobuf Spec, field for field, the way the Kata runtime fills it in. The agent does the
// reverse (protobuf Spec -> config.json for crun/runc) in containers/oci-spec.ts.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { LinuxResourcesSchema, SpecSchema } from "../../gen/oci_pb.js";

/** The protobuf Spec a client sends in CreateContainerRequest.OCI. */
export type SpecInit = MessageInitShape<typeof SpecSchema>;

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

/** A runtime-spec config.json object as a protobuf Spec; absent members stay unset or zero. */
export function fromRuntimeSpec(value: unknown): SpecInit {
  const s = obj(value);
  const p = obj(s.process);
  const user = obj(p.user);
  const caps = obj(p.capabilities);
  const linux = obj(s.linux);
  const hooks = obj(s.hooks);
  const hookList = (name: string) =>
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

/** linux.resources of a runtime-spec (UpdateContainer takes these). */
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
