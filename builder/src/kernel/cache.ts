// The kernel cache, under <cache>/kernel/:
//   downloads/linux-<version>.tar.xz     verified downloads
//   sources/<tarball sha256>/<tree>/     tarballs unpacked once
//   objects/<source>-<arch>-<profile>/   make O= directories (incremental rebuilds), make logs
//   kernels/<key>/                       finished kernels: vmlinux, bzImage, config, manifest.json
// A finished kernel's key hashes the source (tarball sha256 or tree fingerprint), the merged
// fragment config, the architecture and the build recipe, so an unchanged kernel is never rebuilt.
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { Progress } from "../util/progress.js";
import { withLock as withCacheLock } from "../workspace/lock.js";
import { type KernelManifest, readKernelManifest } from "./manifest.js";
import type { KernelTarget } from "./request.js";
import type { KernelArtifacts } from "./types.js";

/** Bumped whenever the way a kernel is built changes, so old cache entries stop matching. */
export const RECIPE = "kata-build-kernel/1: allnoconfig+fragments, olddefconfig, make vmlinux bzImage";

export interface CacheLayout {
  root: string;
  downloads: string;
  sources: string;
  objects: string;
  kernels: string;
}

export function cacheLayout(cacheDir: string): CacheLayout {
  const root = join(cacheDir, "kernel");
  return {
    root,
    downloads: join(root, "downloads"),
    sources: join(root, "sources"),
    objects: join(root, "objects"),
    kernels: join(root, "kernels"),
  };
}

export interface KeyParts {
  sourceSha256: string;
  mergedConfigSha256: string;
  arch: string;
  recipe?: string;
}

export function kernelKey(parts: KeyParts): string {
  return createHash("sha256")
    .update(
      JSON.stringify([parts.sourceSha256, parts.mergedConfigSha256, parts.arch, parts.recipe ?? RECIPE]),
    )
    .digest("hex")
    .slice(0, 32);
}

/** The fragment profile name used for object directories: hypervisor plus features. */
export function profileName(target: KernelTarget): string {
  return [target.hypervisor, ...target.features, ...(target.extraFragments.length ? ["extra"] : [])].join(
    "+",
  );
}

/** The object directory for one source, architecture and fragment profile. */
export function objectDirName(sourceSha256: string, arch: string, profile: string): string {
  return `${sourceSha256.slice(0, 16)}-${arch}-${profile.replace(/[^A-Za-z0-9_.+-]/g, "_")}`;
}

/**
 * Runs `fn` holding the cache lock at `path`, waiting (and saying so once) while another build
 * holds it. Never taken over by age: a kernel build legitimately holds it for many minutes.
 */
export function withLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: { progress?: Progress; signal?: AbortSignal; what?: string } = {},
): Promise<T> {
  return withCacheLock(path, fn, {
    staleMs: Number.POSITIVE_INFINITY,
    pollMs: 1000,
    ...(options.signal ? { signal: options.signal } : {}),
    onWait: (owner) =>
      options.progress?.info(
        `waiting for ${owner ? `process ${owner}` : "another build"}, which is using ${options.what ?? path}`,
      ),
  });
}

/** The files of a finished kernel, by the names they have in a cache entry or output directory. */
export const KERNEL_FILES = { vmlinux: "vmlinux", bzImage: "bzImage", config: "config" } as const;
export const MANIFEST_FILE = "manifest.json";

export function artifactsIn(dir: string, manifest: KernelManifest, cached: boolean): KernelArtifacts {
  return {
    dir,
    vmlinux: join(dir, KERNEL_FILES.vmlinux),
    bzImage: join(dir, KERNEL_FILES.bzImage),
    config: join(dir, KERNEL_FILES.config),
    manifestPath: join(dir, MANIFEST_FILE),
    manifest,
    cached,
  };
}

/**
 * A complete cache entry (manifest present, every artifact there with its recorded size). The
 * manifest is written last, so an entry counts only when it is complete.
 */
export async function findCachedKernel(dir: string): Promise<KernelArtifacts | undefined> {
  const manifest = await readKernelManifest(join(dir, MANIFEST_FILE));
  if (manifest?.kind !== "kata-guest-kernel") return undefined;
  for (const artifact of manifest.artifacts) {
    const info = await stat(join(dir, artifact.name)).catch(() => undefined);
    if (info?.size !== artifact.bytes) return undefined;
  }
  return artifactsIn(dir, manifest, true);
}
