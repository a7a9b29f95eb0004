// What the kernel stages hand one another through the pipeline.
import type { Drop } from "./kconfig/explain.js";
import type { KernelManifest } from "./manifest.js";
import type { WhitelistEntry } from "./whitelist.js";

/** The kernel source and its identity: a tarball's sha256, or an unpacked tree's fingerprint. */
export type KernelSource =
  | { kind: "tarball"; path: string; sha256: string; pinned?: { version: string; url: string } }
  | { kind: "tree"; path: string; sha256: string };

export interface KernelTree {
  /** The source directory (holds Makefile, Kconfig, arch/). */
  path: string;
  /** VERSION.PATCHLEVEL.SUBLEVEL[EXTRAVERSION] from the top Makefile. */
  version: string;
}

export interface ConfiguredKernel {
  objDir: string;
  /** The final .config. */
  configPath: string;
  configText: string;
  /** The merged fragments as given to KCONFIG_ALLCONFIG. */
  allconfigPath: string;
  logPath: string;
}

export interface Verification {
  requested: number;
  /** Drops the whitelist accepts. */
  accepted: { drop: Drop; entry: WhitelistEntry }[];
  /** Kconfig files read to explain drops (0 when nothing was dropped). */
  kconfigFiles: number;
}

export interface BuiltKernel {
  vmlinux: string;
  /** bzImage (x86_64) or Image (arm64). */
  image: string;
  /** `uname -r` of the built kernel (include/config/kernel.release). */
  release: string;
  seconds: number;
  /** CPU seconds of the whole make (user + system, all jobs). */
  cpuSeconds?: number;
  logPath: string;
}

/** A finished kernel: in the cache, or copied to an output directory. */
export interface KernelArtifacts {
  /** Directory holding the files below. */
  dir: string;
  vmlinux: string;
  /** bzImage (x86_64). */
  bzImage: string;
  /** The final .config. */
  config: string;
  manifestPath: string;
  manifest: KernelManifest;
  /** True when nothing was built because the cache already had this kernel. */
  cached: boolean;
}
