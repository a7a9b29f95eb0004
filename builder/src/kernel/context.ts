// The one context every kernel stage receives: the normalized request plus where things live.
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { BuildError } from "../util/errors.js";
import { dataDir } from "../util/paths.js";
import { Progress } from "../util/progress.js";
import { type CacheLayout, cacheLayout } from "./cache.js";
import { type Arch, type Hypervisor, KERNEL_ARCH, type KernelRequest } from "./request.js";

export interface KernelContext {
  hypervisor: Hypervisor;
  arch: Arch;
  kernelArch: (typeof KERNEL_ARCH)[Arch];
  source: string;
  features: readonly string[];
  extraFragments: readonly string[];
  jobs: number;
  /** rootfs/kernel (or the request's dataDir): fragments/, whitelist.conf, versions.conf. */
  dataDir: string;
  cache: CacheLayout;
  mirror?: string;
  progress: Progress;
  signal?: AbortSignal;
}

/** rootfs/kernel of this repository: fragments/, whitelist.conf, versions.conf. */
export function defaultKernelDataDir(): string {
  return join(dataDir(), "kernel");
}

export function createContext(request: KernelRequest): KernelContext {
  if (!KERNEL_ARCH[request.arch]) throw new BuildError(`unsupported architecture '${request.arch}'`);
  return {
    hypervisor: request.hypervisor,
    arch: request.arch,
    kernelArch: KERNEL_ARCH[request.arch],
    source: request.source,
    features: [...(request.features ?? [])],
    extraFragments: (request.extraFragments ?? []).map((f) => resolve(f)),
    jobs: request.jobs && request.jobs > 0 ? Math.floor(request.jobs) : availableParallelism(),
    dataDir: resolve(request.dataDir ?? defaultKernelDataDir()),
    cache: cacheLayout(resolve(request.cacheDir)),
    ...(request.mirror ? { mirror: request.mirror } : {}),
    progress: request.progress ?? new Progress({ quiet: true }),
    ...(request.signal ? { signal: request.signal } : {}),
  };
}

/** The fragment profile name used for object directories: hypervisor plus features. */
export function profileName(ctx: KernelContext): string {
  return [ctx.hypervisor, ...ctx.features, ...(ctx.extraFragments.length ? ["extra"] : [])].join("+");
}
