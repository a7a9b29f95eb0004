// The kernel build as the list of stages it runs over one context:
//   fetchKernelSource → mergeKernelFragments → (cache lookup) → unpackKernelSource
//   → configureKernel → verifyKernelConfig → makeKernel → checkPvhNote → installKernel → writeManifest
// `configureOnly` stops after verifyKernelConfig, which is what CI runs on every change.
import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { createContext, createKernelContext, type With } from "../context.js";
import {
  artifactsIn,
  cacheLayout,
  findCachedKernel,
  kernelKey,
  MANIFEST_FILE,
  objectDirName,
  profileName,
  RECIPE,
  withLock,
} from "../kernel/cache.js";
import { fragmentsHash } from "../kernel/fragments.js";
import { type KernelManifest, kernelManifest } from "../kernel/manifest.js";
import type { KernelRequest } from "../kernel/request.js";
import type {
  ConfiguredKernel,
  KernelArtifacts,
  KernelSource,
  KernelTree,
  Verification,
} from "../kernel/types.js";
import { checkPvhNote } from "../stages/check-pvh-note.js";
import { configureKernel } from "../stages/configure-kernel.js";
import { fetchKernelSource } from "../stages/fetch-kernel-source.js";
import { installKernel } from "../stages/install-kernel.js";
import { makeKernel } from "../stages/make-kernel.js";
import { type MergedFragments, mergeKernelFragments } from "../stages/merge-kernel-fragments.js";
import { unpackKernelSource } from "../stages/unpack-kernel-source.js";
import { verifyKernelConfig } from "../stages/verify-kernel-config.js";
import { writeKernelConfig } from "../stages/write-kernel-config.js";
import { writeManifest } from "../stages/write-manifest.js";
import { BuildError } from "../util/errors.js";
import type { OutputRecord } from "../util/manifest.js";
import type { Progress } from "../util/progress.js";
import { withStaging } from "../workspace/atomic.js";

export type { KernelManifest } from "../kernel/manifest.js";
export type { Arch, Hypervisor, KernelRequest } from "../kernel/request.js";
export type { KernelArtifacts } from "../kernel/types.js";

type KernelContext = With<"kernel" | "data" | "cache">;

interface Plan extends MergedFragments {
  ctx: KernelContext;
  source: KernelSource;
  key: string;
  objDir: string;
}

async function plan(request: KernelRequest): Promise<Plan> {
  const ctx = createKernelContext(request);
  const source = await fetchKernelSource(ctx);
  const merged = await mergeKernelFragments(ctx);
  const { arch } = ctx.kernel;
  const key = kernelKey({ sourceSha256: source.sha256, mergedConfigSha256: merged.mergedSha256, arch });
  const objDir = join(
    cacheLayout(ctx.cache).objects,
    objectDirName(source.sha256, arch, profileName(ctx.kernel)),
  );
  return { ctx, source, ...merged, key, objDir };
}

interface Verified {
  tree: KernelTree;
  configured: ConfiguredKernel;
  verification: Verification;
}

async function configureAndVerify(p: Plan): Promise<Verified> {
  const { ctx, merged, objDir } = p;
  const tree = await unpackKernelSource(ctx, { source: p.source });
  const configured = await configureKernel(ctx, { tree, merged, objDir });
  const verification = await verifyKernelConfig(ctx, { tree, merged, configured });
  ctx.progress.info(
    `${verification.requested} requested options checked; ${verification.accepted.length} accepted drops (whitelist)`,
  );
  return { tree, configured, verification };
}

/** The kernel's manifest lists its files as name, size and sha256. */
const files = (outputs: OutputRecord[]) =>
  outputs.flatMap((o) => (o.kind === "file" ? [{ name: o.name, bytes: o.bytes, sha256: o.sha256 }] : []));

/** Writes the kernel's manifest.json, describing what `into` has staged. */
function writeKernelManifest(
  into: With<"staging">,
  p: Plan,
  { tree, configured, verification }: Verified,
  rest: Pick<KernelManifest, "kind"> & Partial<Pick<KernelManifest, "release" | "pvhEntry" | "build">>,
): Promise<KernelManifest> {
  const document = (outputs: OutputRecord[]) =>
    kernelManifest({
      ...rest,
      artifacts: files(outputs),
      version: tree.version,
      arch: p.ctx.kernel.arch,
      hypervisor: p.ctx.kernel.hypervisor,
      features: p.ctx.kernel.features,
      source: p.source,
      fragments: p.fragments,
      fragmentsSha256: fragmentsHash(p.fragments),
      merged: p.merged,
      mergedConfigSha256: p.mergedSha256,
      cacheKey: p.key,
      recipe: RECIPE,
      accepted: verification.accepted,
      finalConfigSha256: createHash("sha256").update(configured.configText).digest("hex"),
    });
  return writeManifest(into, { file: MANIFEST_FILE, document });
}

/** Runs `fn` holding the lock on the plan's object directory (one build per directory). */
function withObjectsLock<T>(p: Plan, fn: () => Promise<T>): Promise<T> {
  const { progress, signal } = p.ctx;
  return withLock(`${p.objDir}.lock`, fn, { progress, what: p.objDir, ...(signal ? { signal } : {}) });
}

/**
 * A verified, built kernel for the request, from the cache when an identical one (same source,
 * same merged fragments, same recipe) was built before. This is the library entry point the
 * boot check and the bench use.
 */
export async function ensureKernel(request: KernelRequest): Promise<KernelArtifacts> {
  const p = await plan(request);
  const { ctx } = p;
  if (ctx.kernel.arch !== "x86_64" || process.arch !== "x64") {
    throw new BuildError(
      `building a ${ctx.kernel.arch} kernel on this ${process.arch} host is not supported`,
      "use --config-only to check the fragments for another architecture",
    );
  }
  const cache = cacheLayout(ctx.cache);
  const entryDir = join(cache.kernels, p.key);
  const hit = await findCachedKernel(entryDir);
  if (hit) {
    ctx.progress.info(`cached: ${entryDir}`);
    return hit;
  }
  await mkdir(cache.objects, { recursive: true });
  return withObjectsLock(p, async () => {
    const again = await findCachedKernel(entryDir);
    if (again) return again;
    const verified = await configureAndVerify(p);
    const built = await makeKernel(ctx, { tree: verified.tree, objDir: p.objDir });
    const pvhEntry = await checkPvhNote(ctx, { vmlinux: built.vmlinux });
    const build = {
      seconds: Math.round(built.seconds * 10) / 10,
      ...(built.cpuSeconds !== undefined ? { cpuSeconds: Math.round(built.cpuSeconds) } : {}),
      jobs: ctx.kernel.jobs,
      cpus: availableParallelism(),
      loadAverage: Math.round(loadavg()[0]! * 100) / 100,
      finishedAt: new Date().toISOString(),
    };
    const { manifest } = await ctx.progress.step(`Storing the kernel in ${entryDir}`, () =>
      withStaging(entryDir, async (staging) => {
        const into = { ...ctx, staging, artifacts: [] };
        await installKernel(into, {
          vmlinux: built.vmlinux,
          bzImage: built.image,
          config: verified.configured.configPath,
        });
        const manifest = await writeKernelManifest(into, p, verified, {
          kind: "kata-guest-kernel",
          release: built.release,
          ...(pvhEntry ? { pvhEntry } : {}),
          build,
        });
        return { artifacts: into.artifacts, manifest };
      }),
    );
    return artifactsIn(entryDir, manifest, false);
  });
}

export interface ConfigOnlyResult {
  config: string;
  manifestPath: string;
  manifest: KernelManifest;
}

/** Merge, olddefconfig and verify, no compile; writes `config` and manifest.json into outDir. */
export async function configureOnly(request: KernelRequest, outDir: string): Promise<ConfigOnlyResult> {
  const p = await plan(request);
  const { ctx } = p;
  await mkdir(cacheLayout(ctx.cache).objects, { recursive: true });
  const { manifest } = await withObjectsLock(p, async () => {
    const verified = await configureAndVerify(p);
    return withStaging(outDir, async (staging) => {
      const into = { ...ctx, staging, artifacts: [] };
      await writeKernelConfig(into, { configText: verified.configured.configText });
      const manifest = await writeKernelManifest(into, p, verified, { kind: "kata-guest-kernel-config" });
      return { artifacts: into.artifacts, manifest };
    });
  });
  return { config: join(outDir, "config"), manifestPath: join(outDir, MANIFEST_FILE), manifest };
}

/** Copies a finished kernel's files and manifest into `outDir`, atomically. */
export async function exportKernel(
  kernel: KernelArtifacts,
  outDir: string,
  progress: Progress,
): Promise<KernelArtifacts> {
  await withStaging(outDir, async (staging) => {
    const ctx = await createContext(staging, { progress, epoch: Math.floor(Date.now() / 1000) });
    await installKernel(ctx, {
      vmlinux: kernel.vmlinux,
      bzImage: kernel.bzImage,
      config: kernel.config,
      manifest: kernel.manifestPath,
    });
    return { artifacts: ctx.artifacts };
  });
  return artifactsIn(outDir, kernel.manifest, kernel.cached);
}
