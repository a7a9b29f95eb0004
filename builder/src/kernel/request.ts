// What a caller asks for: the one input type of the kernel pipeline, shared by the CLI, the
// boot tests and the bench.
import type { Progress } from "../util/progress.js";

export const HYPERVISORS = ["kvm", "mshv"] as const;
export type Hypervisor = (typeof HYPERVISORS)[number];

export const ARCHES = ["x86_64", "arm64"] as const;
export type Arch = (typeof ARCHES)[number];

export interface KernelRequest {
  hypervisor: Hypervisor;
  arch: Arch;
  /** A kernel tarball, an unpacked kernel tree, or a version pinned in versions.conf. */
  source: string;
  /** Names of `features/<name>.conf` fragments, applied in this order. */
  features?: readonly string[];
  /** Extra fragment files, applied after everything else. */
  extraFragments?: readonly string[];
  /** Root of the kernel cache (downloads, unpacked trees, object dirs, finished kernels). */
  cacheDir: string;
  /** Parallel make jobs; defaults to the number of CPUs. */
  jobs?: number;
  /** Directory holding fragments/, whitelist.conf and versions.conf; defaults to rootfs/kernel. */
  dataDir?: string;
  /** Base URL replacing https://cdn.kernel.org/pub for version downloads. */
  mirror?: string;
  progress?: Progress;
  signal?: AbortSignal;
}

/** make's ARCH and the kernel's arch directory for each architecture. */
export const KERNEL_ARCH: Record<Arch, { make: string; srcarch: string; image: string }> = {
  x86_64: { make: "x86_64", srcarch: "x86", image: "arch/x86/boot/bzImage" },
  arm64: { make: "arm64", srcarch: "arm64", image: "arch/arm64/boot/Image" },
};
