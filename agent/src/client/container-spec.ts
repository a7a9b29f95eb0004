// A container's OCI spec from a short description (root filesystem, command, environment,
// working directory, capabilities, terminal), filled in as containerd fills a Kubernetes
// container's spec: its default capabilities, namespaces, mounts, masked and read-only paths.
// The result is the protobuf Spec CreateContainer takes, so nobody writes Kata's capitalised
// OCI JSON by hand for an ordinary container.
import { fromRuntimeSpec, type SpecInit } from "./spec.js";

/** containerd's default capability set for a container. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

export const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface ProcessOptions {
  /** The command and its arguments (required, non-empty). */
  args: readonly string[];
  /** NAME=value entries, added to PATH (and TERM=xterm with a terminal). */
  env?: readonly string[];
  cwd?: string;
  /** Capabilities beyond the defaults, with or without the CAP_ prefix ("NET_ADMIN"). */
  addCapabilities?: readonly string[];
  /** Default capabilities to leave out; "ALL" drops every one. */
  dropCapabilities?: readonly string[];
  terminal?: boolean;
  /** uid, or uid:gid (default 0:0). */
  user?: string;
}

export interface ContainerSpecOptions extends ProcessOptions {
  /** The root filesystem's path in the guest. */
  rootfs: string;
  readonlyRootfs?: boolean;
  hostname?: string;
  annotations?: Record<string, string>;
  /** Guest paths bound read-only into the container: container path -> guest path. */
  readonlyBinds?: Readonly<Record<string, string>>;
}

export class SpecOptionError extends Error {
  override readonly name = "SpecOptionError";
}

/** A capability name as the runtime spec writes it: upper case with the CAP_ prefix. */
export function capabilityName(name: string): string {
  const upper = name.trim().toUpperCase();
  if (!/^(CAP_)?[A-Z_]+$/.test(upper)) throw new SpecOptionError(`'${name}' is not a capability name`);
  return upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
}

function capabilities(o: ProcessOptions): string[] {
  const drop = new Set(
    (o.dropCapabilities ?? []).map((c) => (c.toUpperCase() === "ALL" ? "ALL" : capabilityName(c))),
  );
  const kept = drop.has("ALL") ? [] : DEFAULT_CAPABILITIES.filter((c) => !drop.has(c));
  for (const c of o.addCapabilities ?? []) {
    const name = capabilityName(c);
    if (!kept.includes(name)) kept.push(name);
  }
  return kept;
}

function user(text: string | undefined): { uid: number; gid: number } {
  if (text === undefined || text === "") return { uid: 0, gid: 0 };
  const m = /^(\d+)(?::(\d+))?$/.exec(text);
  if (!m)
    throw new SpecOptionError(
      `user '${text}' must be UID or UID:GID (numbers: the guest has no passwd lookup)`,
    );
  return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
}

function environment(o: ProcessOptions): string[] {
  const env = [...(o.env ?? [])];
  for (const entry of env) {
    if (!/^[^=]+=/.test(entry)) throw new SpecOptionError(`environment entry '${entry}' must be NAME=value`);
  }
  const has = (name: string) => env.some((e) => e.startsWith(`${name}=`));
  if (!has("PATH")) env.unshift(DEFAULT_PATH);
  if (o.terminal && !has("TERM")) env.push("TERM=xterm");
  return env;
}

/** The runtime-spec process object (config.json's "process") for these options. */
export function runtimeProcess(o: ProcessOptions): Record<string, unknown> {
  if (o.args.length === 0)
    throw new SpecOptionError("no command given: add it after --, e.g. -- sh -c 'echo hi'");
  const caps = capabilities(o);
  return {
    terminal: o.terminal === true,
    user: user(o.user),
    args: [...o.args],
    env: environment(o),
    cwd: o.cwd ?? "/",
    capabilities: { bounding: caps, effective: caps, permitted: caps },
    rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
    noNewPrivileges: true,
  };
}

/** The runtime-spec config.json object for a container. */
export function runtimeSpec(o: ContainerSpecOptions): Record<string, unknown> {
  return {
    ociVersion: "1.1.0",
    process: runtimeProcess(o),
    root: { path: o.rootfs, readonly: o.readonlyRootfs === true },
    hostname: o.hostname ?? "",
    annotations: o.annotations ?? {},
    mounts: [
      { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
      {
        destination: "/dev",
        type: "tmpfs",
        source: "tmpfs",
        options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
      },
      {
        destination: "/dev/pts",
        type: "devpts",
        source: "devpts",
        options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
      },
      {
        destination: "/dev/shm",
        type: "tmpfs",
        source: "shm",
        options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
      },
      {
        destination: "/dev/mqueue",
        type: "mqueue",
        source: "mqueue",
        options: ["nosuid", "noexec", "nodev"],
      },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      ...Object.entries(o.readonlyBinds ?? {}).map(([destination, source]) => ({
        destination,
        type: "bind",
        source,
        options: ["rbind", "ro"],
      })),
    ],
    linux: {
      namespaces: [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }],
      maskedPaths: [
        "/proc/acpi",
        "/proc/asound",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/sys/firmware",
      ],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}

/** The protobuf Spec for CreateContainer's OCI field. */
export function containerSpec(o: ContainerSpecOptions): SpecInit {
  return fromRuntimeSpec(runtimeSpec(o));
}

/** The protobuf Process for ExecProcess. */
export function processSpec(o: ProcessOptions): NonNullable<SpecInit["Process"]> {
  return fromRuntimeSpec({ process: runtimeProcess(o) }).Process!;
}
