// The kernel cache, under <cache>/kernel/:
//   downloads/linux-<version>.tar.xz     verified downloads
//   sources/<tarball sha256>/<tree>/     tarballs unpacked once
//   objects/<source>-<arch>-<profile>/   make O= directories (incremental rebuilds), make logs
//   kernels/<key>/                       finished kernels: vmlinux, bzImage, config, manifest.json
// A finished kernel's key hashes the source (tarball sha256 or tree fingerprint), the merged
// fragment config, the architecture and the build recipe, so an unchanged kernel is never rebuilt.
import { createHash } from "node:crypto";
import { open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Progress } from "../util/progress.js";

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

/** The object directory for one source, architecture and fragment profile. */
export function objectDirName(sourceSha256: string, arch: string, profile: string): string {
  return `${sourceSha256.slice(0, 16)}-${arch}-${profile.replace(/[^A-Za-z0-9_.+-]/g, "_")}`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Runs `fn` holding an exclusive lock file (its content is the holder's pid). A lock whose
 * holder is gone is taken over; a live one is waited for, saying so once.
 */
export async function withLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: { progress?: Progress; signal?: AbortSignal; what?: string } = {},
): Promise<T> {
  let announced = false;
  let unreadable = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
    if (Number.isFinite(holder) && alive(holder)) {
      if (!announced) {
        options.progress?.info(`waiting for process ${holder}, which is using ${options.what ?? path}`);
        announced = true;
      }
      await sleep(1000, undefined, options.signal ? { signal: options.signal } : {});
    } else if (Number.isFinite(holder) || ++unreadable > 50) {
      await rm(path, { force: true }); // stale: its holder exited without cleaning up
    } else {
      await sleep(100); // the holder is writing its pid right now
    }
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}
