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

/** JSON.stringify that writes bigints as exact integers. */
export function stringifyExact(value: unknown, indent?: number): string {
  const marker = "\u0000bigint:";
  const text = JSON.stringify(
    value,
    (_key, v: unknown) => (typeof v === "bigint" ? `${marker}${v.toString()}` : v),
    indent,
  );
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, "$1");
}
