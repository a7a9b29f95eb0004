// The one context every stage receives. It carries what a build shares: the step logger, the
// cancel signal, the fixed time, the paths (the rootfs/ data, the shared cache, the staging
// and scratch directories, the root being built), what is built (distribution, init mode, or
// the kernel), and the manifest sections and artifact names the stages add to. A pipeline has
// only some of these; a stage says which it needs with `With<...>`, and the compiler checks
// that the pipeline provides them.
import { mkdir } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import type { Distro, InitMode } from "./distro/types.js";
import { KERNEL_ARCH, type KernelRequest, type KernelTarget } from "./kernel/request.js";
import { BuildError } from "./util/errors.js";
import { defaultKernelDataDir } from "./util/paths.js";
import { Progress } from "./util/progress.js";
import type { Staging } from "./workspace/atomic.js";

export interface BuildContext {
  progress: Progress;
  signal?: AbortSignal;
  /** SOURCE_DATE_EPOCH, or the build's start time. */
  epoch: number;
  /** Manifest sections, keyed by stage. */
  manifest: Record<string, unknown>;
  /** Names (inside staging) to move into the output directory at the end. */
  artifacts: string[];
  /** Where outputs are written until they move into place together. */
  staging?: Staging;
  /** Scratch space inside the staging directory (removed with it). */
  work?: string;
  /** The data directory the pipeline reads: rootfs/ (or rootfs/kernel for the kernel). */
  data?: string;
  /** The cache every command shares ($KATA_BUILD_CACHE). */
  cache?: string;
  /** The root filesystem tree being built. */
  root?: string;
  distro?: Distro;
  init?: InitMode;
  /** The kernel being built: hypervisor, architecture, source, features, make jobs. */
  kernel?: KernelTarget;
}

/** A context known to carry `K`: what a stage needs from it. */
export type With<K extends keyof BuildContext> = BuildContext & { [P in K]-?: NonNullable<BuildContext[P]> };

/** SOURCE_DATE_EPOCH from the environment, validated; `now` when unset. */
export function sourceDateEpoch(env = process.env, now = Date.now()): number {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === "") return Math.floor(now / 1000);
  if (!/^\d+$/.test(raw)) throw new BuildError(`SOURCE_DATE_EPOCH must be a number of seconds, not '${raw}'`);
  return Number(raw);
}

type Given = Omit<Partial<BuildContext>, "staging" | "work" | "manifest" | "artifacts"> &
  Pick<BuildContext, "progress" | "epoch">;

/** A context writing into `staging`, with its scratch directory made, plus the given fields. */
export async function createContext<T extends Given>(
  staging: Staging,
  given: T,
): Promise<T & With<"staging" | "work">> {
  const work = staging.path(".work");
  await mkdir(work, { recursive: true });
  return { ...given, staging, work, manifest: {}, artifacts: [] };
}

/** The kernel pipeline's context, from a caller's request (relative paths resolved, defaults applied). */
export function createKernelContext(request: KernelRequest): With<"kernel" | "data" | "cache"> {
  const kernelArch = KERNEL_ARCH[request.arch];
  if (!kernelArch) throw new BuildError(`unsupported architecture '${request.arch}'`);
  return {
    kernel: {
      hypervisor: request.hypervisor,
      arch: request.arch,
      kernelArch,
      source: request.source,
      features: [...(request.features ?? [])],
      extraFragments: (request.extraFragments ?? []).map((f) => resolve(f)),
      jobs: request.jobs && request.jobs > 0 ? Math.floor(request.jobs) : availableParallelism(),
      ...(request.mirror ? { mirror: request.mirror } : {}),
    },
    data: resolve(request.dataDir ?? defaultKernelDataDir()),
    cache: resolve(request.cacheDir),
    progress: request.progress ?? new Progress({ quiet: true }),
    ...(request.signal ? { signal: request.signal } : {}),
    // No kernel stage reads it: a kernel build stamps its own time, and its manifest says when.
    epoch: Math.floor(Date.now() / 1000),
    manifest: {},
    artifacts: [],
  };
}
