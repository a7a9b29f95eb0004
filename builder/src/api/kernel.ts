// kernel(): a guest kernel for kvm or mshv from the fragments in rootfs/kernel, verified option
// by option, built once and cached, as `kata-build kernel` builds it.
import { availableParallelism } from "node:os";
import { smokeBoot } from "../boot/smoke.js";
import { ARCHES, type Arch, HYPERVISORS, type Hypervisor, type KernelRequest } from "../kernel/request.js";
import {
  configureOnly,
  ensureKernel,
  exportKernel,
  type KernelArtifacts,
  type KernelManifest,
} from "../pipelines/kernel.js";
import type { Given, OptionTable } from "../util/options.js";
import { resolveOptions } from "../util/options.js";
import { type BuildHooks, progressOf } from "./hooks.js";
import { cacheDirOf, cacheOption, outOption } from "./shared-options.js";

export const kernelOptions = {
  source: {
    kind: "string",
    arg: "TARBALL|DIR|VERSION",
    required: true,
    help: "kernel source: a tarball, an unpacked tree, or a version pinned in rootfs/kernel/versions.conf",
  },
  hypervisor: {
    kind: "string",
    arg: "NAME",
    choices: HYPERVISORS,
    default: "kvm",
    help: "hypervisor fragments",
  },
  arch: { kind: "string", arg: "ARCH", choices: ARCHES, default: "x86_64", help: "architecture" },
  feature: { kind: "strings", arg: "NAME", help: "optional feature fragment (repeatable)" },
  fragment: {
    kind: "strings",
    arg: "FILE",
    path: true,
    help: "extra fragment file applied last (repeatable)",
  },
  out: outOption("out/kernel"),
  jobs: {
    kind: "number",
    short: "j",
    arg: "N",
    default: availableParallelism(),
    help: "parallel make jobs",
  },
  cache: cacheOption,
  configOnly: {
    kind: "boolean",
    help: "merge, olddefconfig and verify only; write config + manifest.json",
  },
  smokeBoot: { kind: "boolean", help: "boot the bzImage under QEMU TCG with a busybox initrd and time it" },
  mirror: { kind: "string", arg: "URL", help: "kernel.org mirror for version downloads" },
  data: { kind: "string", arg: "DIR", path: true, help: "kernel data directory (default: rootfs/kernel)" },
} as const satisfies OptionTable;

export type KernelOptions = Given<typeof kernelOptions>;

/** With configOnly: the verified configuration. */
export interface KernelConfigResult {
  configOnly: true;
  config: string;
  manifestPath: string;
  manifest: KernelManifest;
}

/** A built (or cached) kernel, copied to `out` (its `dir`). */
export interface KernelBuildResult extends KernelArtifacts {
  configOnly: false;
  /** The figures the bench reports. */
  summary: {
    buildSeconds?: number;
    buildCpuSeconds?: number;
    vmlinuxBytes?: number;
    bzImageBytes?: number;
    bootToMarkerSeconds?: number;
    cached: boolean;
  };
  /** With smokeBoot: how long the kernel took to reach a busybox /init under QEMU TCG, and what it saw. */
  boot?: SmokeBoot;
}

export type KernelResult = KernelConfigResult | KernelBuildResult;

/** The smoke boot's figures (seconds) and what the guest reported. */
export interface SmokeBoot {
  markerSeconds: number;
  exitSeconds: number;
  release?: string;
  cgroupControllers?: string[];
}

export async function kernel(options: KernelOptions, hooks: BuildHooks = {}): Promise<KernelResult> {
  const o = resolveOptions(kernelOptions, options);
  const progress = progressOf(hooks);
  const request: KernelRequest = {
    hypervisor: o.hypervisor as Hypervisor,
    arch: o.arch as Arch,
    source: o.source!,
    features: o.feature ?? [],
    extraFragments: o.fragment ?? [],
    cacheDir: cacheDirOf(o.cache),
    jobs: o.jobs,
    progress,
    ...(o.mirror ? { mirror: o.mirror } : {}),
    ...(o.data ? { dataDir: o.data } : {}),
  };
  if (o.configOnly) return { configOnly: true, ...(await configureOnly(request, o.out)) };
  const built = await ensureKernel(request);
  const exported = await progress.step(`Copying the kernel to ${o.out}`, () =>
    exportKernel(built, o.out, progress),
  );
  const m = exported.manifest;
  const sizes = Object.fromEntries(m.artifacts.map((a) => [a.name, a.bytes]));
  const boot = o.smokeBoot ? await smokeBoot({ kernel: exported.bzImage, progress }) : undefined;
  return {
    configOnly: false,
    dir: exported.dir,
    vmlinux: exported.vmlinux,
    bzImage: exported.bzImage,
    config: exported.config,
    manifestPath: exported.manifestPath,
    manifest: m,
    cached: built.cached,
    summary: {
      buildSeconds: m.build?.seconds,
      buildCpuSeconds: m.build?.cpuSeconds,
      vmlinuxBytes: sizes.vmlinux,
      bzImageBytes: sizes.bzImage,
      bootToMarkerSeconds: boot ? Math.round(boot.markerSeconds * 100) / 100 : undefined,
      cached: built.cached,
    },
    ...(boot
      ? {
          boot: {
            markerSeconds: boot.markerSeconds,
            exitSeconds: boot.exitSeconds,
            ...(boot.release ? { release: boot.release } : {}),
            ...(boot.cgroupControllers ? { cgroupControllers: boot.cgroupControllers } : {}),
          },
        }
      : {}),
  };
}
