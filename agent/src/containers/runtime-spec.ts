// The OCI runtime-spec config.json shape (the parts Kata's protobuf Spec carries), and a JSON
// writer that keeps 64-bit integers exact: rlimits use 2^64-1 for "unlimited", which a JS
// number cannot hold.

export interface RuntimeSpec {
  ociVersion: string;
  process?: RuntimeProcess;
  root?: { path: string; readonly?: boolean };
  hostname?: string;
  mounts?: { destination: string; type?: string; source?: string; options?: string[] }[];
  hooks?: Partial<Record<HookName, RuntimeHook[]>>;
  annotations?: Record<string, string>;
  linux?: RuntimeLinux;
}

export type HookName =
  | "prestart"
  | "createRuntime"
  | "createContainer"
  | "startContainer"
  | "poststart"
  | "poststop";

export interface RuntimeHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface RuntimeProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: { uid: number; gid: number; additionalGids?: number[]; username?: string };
  args: string[];
  env?: string[];
  cwd: string;
  capabilities?: Partial<
    Record<"bounding" | "effective" | "inheritable" | "permitted" | "ambient", string[]>
  >;
  rlimits?: { type: string; hard: bigint; soft: bigint }[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
}

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface RuntimeResources {
  devices?: { allow: boolean; type?: string; major?: bigint; minor?: bigint; access?: string }[];
  memory?: {
    limit?: bigint;
    reservation?: bigint;
    swap?: bigint;
    kernel?: bigint;
    kernelTCP?: bigint;
    swappiness?: bigint;
    disableOOMKiller?: boolean;
  };
  cpu?: {
    shares?: bigint;
    quota?: bigint;
    period?: bigint;
    realtimeRuntime?: bigint;
    realtimePeriod?: bigint;
    cpus?: string;
    mems?: string;
  };
  pids?: { limit: bigint };
  blockIO?: {
    weight?: number;
    leafWeight?: number;
    weightDevice?: { major: bigint; minor: bigint; weight?: number; leafWeight?: number }[];
    throttleReadBpsDevice?: ThrottleDevice[];
    throttleWriteBpsDevice?: ThrottleDevice[];
    throttleReadIOPSDevice?: ThrottleDevice[];
    throttleWriteIOPSDevice?: ThrottleDevice[];
  };
  hugepageLimits?: { pageSize: string; limit: bigint }[];
  network?: { classID?: number; priorities?: { name: string; priority: number }[] };
}

export interface ThrottleDevice {
  major: bigint;
  minor: bigint;
  rate: bigint;
}

export interface RuntimeLinux {
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
  sysctl?: Record<string, string>;
  resources?: RuntimeResources;
  cgroupsPath?: string;
  namespaces?: { type: string; path?: string }[];
  devices?: {
    path: string;
    type: string;
    major: bigint;
    minor: bigint;
    fileMode?: number;
    uid?: number;
    gid?: number;
  }[];
  seccomp?: {
    defaultAction: string;
    architectures?: string[];
    flags?: string[];
    syscalls?: {
      names: string[];
      action: string;
      errnoRet?: number;
      args?: { index: bigint; value: bigint; valueTwo?: bigint; op: string }[];
    }[];
  };
  rootfsPropagation?: string;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
  intelRdt?: { l3CacheSchema?: string };
}

/**
 * JSON.stringify that writes bigints as exact integers. It walks the value itself rather than
 * marking bigints with a placeholder string and rewriting the text afterwards: an annotation or
 * argument that happened to spell the placeholder would have become a number.
 */
export function stringifyExact(value: unknown, indent?: number): string {
  return write(value, indent ? " ".repeat(indent) : "", "") ?? "undefined";
}

/** One value as JSON at nesting `depth` (the indent already written before it); undefined: omitted. */
function write(value: unknown, step: string, depth: string): string | undefined {
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const toJSON = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof toJSON === "function") return write(toJSON.call(value), step, depth);
  const inner = depth + step;
  const open = step ? `\n${inner}` : "";
  const close = step ? `\n${depth}` : "";
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const items = value.map((v) => write(v, step, inner) ?? "null");
    return `[${open}${items.join(`,${open}`)}${close}]`;
  }
  const members: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const text = write(v, step, inner);
    if (text !== undefined) members.push(`${JSON.stringify(key)}:${step ? " " : ""}${text}`);
  }
  if (members.length === 0) return "{}";
  return `{${open}${members.join(`,${open}`)}${close}}`;
}
