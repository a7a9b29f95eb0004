// The kernel build as a list of named stages over one KernelContext:
//   fetchSource → selectFragments/merge → (cache lookup) → unpackSource → configureKernel
//   → verifyConfig → makeKernel → checkPvhNote → installKernel
// `configureOnly` stops after verifyConfig, which is what CI runs on every change.
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { withStaging } from "../util/atomic.js";
import { BuildError } from "../util/errors.js";
import { describeArtifact, writeManifest } from "../util/manifest.js";
import { kernelKey, objectDirName, RECIPE, withLock } from "./cache.js";
import { createContext, type KernelContext, profileName } from "./context.js";
import { type FragmentFile, fragmentsHash, selectFragments } from "./fragments.js";
import { conflicts, type MergedConfig, mergedHash, mergeFragments } from "./kconfig/merge.js";
import { type KernelManifest, kernelManifest } from "./manifest.js";
import type { KernelRequest } from "./request.js";
import { checkPvhNote } from "./stages/check-pvh-note.js";
import { type ConfiguredKernel, configureKernel } from "./stages/configure-kernel.js";
import { fetchSource, type KernelSource } from "./stages/fetch-source.js";
import { findCachedKernel, installKernel, type KernelArtifacts } from "./stages/install-kernel.js";
import { makeKernel } from "./stages/make-kernel.js";
import { type KernelTree, unpackSource } from "./stages/unpack-source.js";
import { type Verification, verifyConfig } from "./stages/verify-config.js";

export type { KernelArtifacts } from "./stages/install-kernel.js";

interface Plan {
  ctx: KernelContext;
  source: KernelSource;
  fragments: FragmentFile[];
  merged: MergedConfig;
  mergedSha256: string;
  key: string;
  objDir: string;
}

async function plan(request: KernelRequest): Promise<Plan> {
  const ctx = createContext(request);
  const source = await fetchSource(ctx);
  const fragments = await selectFragments(ctx.dataDir, {
    arch: ctx.arch,
    hypervisor: ctx.hypervisor,
    features: ctx.features,
    extra: ctx.extraFragments,
  });
  const merged = mergeFragments(fragments);
  for (const c of conflicts(merged)) {
    const was = c.overrides[c.overrides.length - 1]!;
    ctx.progress.info(`CONFIG_${c.symbol}=${c.value} from ${c.from} replaces ${was.value} from ${was.from}`);
  }
  const mergedSha256 = mergedHash(merged);
  const key = kernelKey({ sourceSha256: source.sha256, mergedConfigSha256: mergedSha256, arch: ctx.arch });
  const objDir = join(ctx.cache.objects, objectDirName(source.sha256, ctx.arch, profileName(ctx)));
  return { ctx, source, fragments, merged, mergedSha256, key, objDir };
}

async function configureAndVerify(
  p: Plan,
): Promise<{ tree: KernelTree; configured: ConfiguredKernel; verification: Verification }> {
  const tree = await unpackSource(p.ctx, p.source);
  const configured = await configureKernel(p.ctx, tree, p.merged, p.objDir);
  const verification = await verifyConfig(p.ctx, tree, p.merged, configured);
  p.ctx.progress.info(
    `${verification.requested} requested options checked; ${verification.accepted.length} accepted drops (whitelist)`,
  );
  return { tree, configured, verification };
}

function manifestOf(
  p: Plan,
  tree: KernelTree,
  configured: ConfiguredKernel,
  verification: Verification,
  rest: Pick<KernelManifest, "kind" | "artifacts"> &
    Partial<Pick<KernelManifest, "release" | "pvhEntry" | "build">>,
): KernelManifest {
  return kernelManifest({
    ...rest,
    version: tree.version,
    arch: p.ctx.arch,
    hypervisor: p.ctx.hypervisor,
    features: p.ctx.features,
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
}

/**
 * A verified, built kernel for the request, from the cache when an identical one (same source,
 * same merged fragments, same recipe) was built before. This is the library entry point the
 * boot tests and the bench use.
 */
export async function ensureKernel(request: KernelRequest): Promise<KernelArtifacts> {
  const p = await plan(request);
  const { ctx } = p;
  if (ctx.arch !== "x86_64" || process.arch !== "x64") {
    throw new BuildError(
      `building a ${ctx.arch} kernel on this ${process.arch} host is not supported`,
      "use --config-only to check the fragments for another architecture",
    );
  }
  const entryDir = join(ctx.cache.kernels, p.key);
  const hit = await findCachedKernel(entryDir);
  if (hit) {
    ctx.progress.info(`cached: ${entryDir}`);
    return hit;
  }
  await mkdir(ctx.cache.objects, { recursive: true });
  return withLock(
    `${p.objDir}.lock`,
    async () => {
      const again = await findCachedKernel(entryDir);
      if (again) return again;
      const { tree, configured, verification } = await configureAndVerify(p);
      const built = await makeKernel(ctx, tree, p.objDir);
      const pvhEntry = await checkPvhNote(ctx, built.vmlinux);
      const release = (await readFile(join(p.objDir, "include/config/kernel.release"), "utf8")).trim();
      return ctx.progress.step(`Storing the kernel in ${entryDir}`, () =>
        installKernel(
          entryDir,
          { vmlinux: built.vmlinux, bzImage: built.image, config: configured.configPath },
          (artifacts) =>
            manifestOf(p, tree, configured, verification, {
              kind: "kata-guest-kernel",
              artifacts,
              release,
              ...(pvhEntry ? { pvhEntry } : {}),
              build: {
                seconds: Math.round(built.seconds * 10) / 10,
                ...(built.cpuSeconds !== undefined ? { cpuSeconds: Math.round(built.cpuSeconds) } : {}),
                jobs: ctx.jobs,
                cpus: availableParallelism(),
                loadAverage: Math.round(loadavg()[0]! * 100) / 100,
                finishedAt: new Date().toISOString(),
              },
            }),
        ),
      );
    },
    { progress: ctx.progress, what: p.objDir, ...(ctx.signal ? { signal: ctx.signal } : {}) },
  );
}

export interface ConfigOnlyResult {
  config: string;
  manifestPath: string;
  manifest: KernelManifest;
}

/** Merge, olddefconfig and verify, no compile; writes `config` and manifest.json into outDir. */
export async function configureOnly(request: KernelRequest, outDir: string): Promise<ConfigOnlyResult> {
  const p = await plan(request);
  await mkdir(p.ctx.cache.objects, { recursive: true });
  const { manifest } = await withLock(
    `${p.objDir}.lock`,
    async () => {
      const { tree, configured, verification } = await configureAndVerify(p);
      return withStaging(outDir, async (staging) => {
        await writeFile(staging.path("config"), configured.configText);
        const artifacts = [await describeArtifact(staging.path("config"))];
        const m = manifestOf(p, tree, configured, verification, {
          kind: "kata-guest-kernel-config",
          artifacts,
        });
        await writeManifest(staging.path("manifest.json"), m as unknown as Record<string, unknown>);
        return { artifacts: ["config", "manifest.json"], manifest: m };
      });
    },
    { progress: p.ctx.progress, what: p.objDir, ...(p.ctx.signal ? { signal: p.ctx.signal } : {}) },
  );
  return { config: join(outDir, "config"), manifestPath: join(outDir, "manifest.json"), manifest };
}
