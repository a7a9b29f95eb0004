// The numbers `npm run bench` reports for the guest kernel: cold build time (measured when the
// kernel was built and kept in its manifest, so a warm cache still reports it), the sizes of
// vmlinux and bzImage, and seconds from starting QEMU (TCG) to the smoke initrd's marker.

import { ensureKernel, type Hypervisor } from "../pipelines/kernel.js";
import { defaultCacheDir } from "../util/paths.js";
import type { Progress } from "../util/progress.js";
import { smokeBoot } from "./smoke.js";

/** Debian 12's kernel source tarball (package linux-source-6.1). */
export const DEBIAN_KERNEL_TARBALL = "/usr/src/linux-source-6.1.tar.xz";

export interface KernelBenchOptions {
  source?: string;
  hypervisor?: Hypervisor;
  cacheDir?: string;
  jobs?: number;
  progress?: Progress;
}

export interface KernelBenchResult {
  /** Wall-clock seconds of the cold `make vmlinux bzImage` (from the manifest). */
  buildSeconds: number;
  /** CPU seconds of that build (all jobs); / jobs estimates the wall time on an idle machine. */
  buildCpuSeconds?: number;
  vmlinuxBytes: number;
  bzImageBytes: number;
  /** QEMU start to the marker line, booting the bzImage under TCG. */
  bootToMarkerSeconds: number;
  /** True when the kernel came from the cache rather than being built now. */
  cached: boolean;
  release: string;
  jobs: number;
}

export async function kernelBench(options: KernelBenchOptions = {}): Promise<KernelBenchResult> {
  const kernel = await ensureKernel({
    hypervisor: options.hypervisor ?? "kvm",
    arch: "x86_64",
    source: options.source ?? DEBIAN_KERNEL_TARBALL,
    cacheDir: options.cacheDir ?? defaultCacheDir(),
    ...(options.jobs ? { jobs: options.jobs } : {}),
    ...(options.progress ? { progress: options.progress } : {}),
  });
  const size = (name: string) => kernel.manifest.artifacts.find((a) => a.name === name)?.bytes ?? 0;
  const boot = await smokeBoot({
    kernel: kernel.bzImage,
    ...(options.progress ? { progress: options.progress } : {}),
  });
  return {
    buildSeconds: kernel.manifest.build?.seconds ?? Number.NaN,
    ...(kernel.manifest.build?.cpuSeconds !== undefined
      ? { buildCpuSeconds: kernel.manifest.build.cpuSeconds }
      : {}),
    vmlinuxBytes: size("vmlinux"),
    bzImageBytes: size("bzImage"),
    bootToMarkerSeconds: Math.round(boot.markerSeconds * 100) / 100,
    cached: kernel.cached,
    release: kernel.manifest.release ?? kernel.manifest.version,
    jobs: kernel.manifest.build?.jobs ?? 0,
  };
}
