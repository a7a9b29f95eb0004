// What the shared cache holds, by kind, and how to remove parts of it. The kinds follow the
// layout the builds use: <distro>/ for package managers (Debian: debs/, apt/<lists>/,
// base/<tree>/), kernel/{downloads,sources,objects,kernels}/<entry>/, and the boot check's
// guests. Nothing is removed while a build holds a lock (a *.lock or lock.d directory whose
// owner lives) in the part being removed.
import type { Dirent } from "node:fs";
import { lstat, readdir, readFile, rm } from "node:fs/promises";
import { join, relative } from "node:path";
import { processAlive } from "./lock.js";

export const CACHE_KINDS = [
  "packages",
  "base-trees",
  "kernel-sources",
  "kernel-objects",
  "kernels",
  "guests",
] as const;
export type CacheKind = (typeof CACHE_KINDS)[number];

export const CACHE_KIND_HELP: Record<CacheKind, string> = {
  packages: "downloaded packages and package lists (Debian .debs and apt lists, dnf caches)",
  "base-trees": "Debian's bootstrapped base trees (a warm rootfs build copies one)",
  "kernel-sources": "kernel tarballs downloaded and source trees unpacked",
  "kernel-objects": "kernel object trees (make O=), for incremental rebuilds",
  kernels: "finished kernels (vmlinux, bzImage, config, manifest)",
  guests: "the boot check's guests (root trees, images, initrds)",
};

export interface CacheEntry {
  kind: CacheKind;
  /** Absolute path. */
  path: string;
  /** Path inside the cache. */
  name: string;
  /** Bytes on disk (allocated blocks, as du counts them). */
  bytes: number;
  /** When the entry itself last changed. */
  modified: Date;
}

const isLockName = (name: string) => name.endsWith(".lock") || name === "lock.d";

async function children(dir: string): Promise<Dirent[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => !isLockName(e.name));
  } catch {
    return [];
  }
}

/** Every entry of the cache, in the order of the kinds. */
export async function listCache(cacheDir: string): Promise<CacheEntry[]> {
  const places: [CacheKind, string][] = [];
  for (const distro of await children(cacheDir)) {
    if (!distro.isDirectory() || ["kernel", "guests", "boot-guests"].includes(distro.name)) continue;
    const dir = join(cacheDir, distro.name);
    for (const e of await children(dir)) {
      if (e.name === "base") {
        for (const tree of await children(join(dir, "base")))
          places.push(["base-trees", join(dir, "base", tree.name)]);
      } else places.push(["packages", join(dir, e.name)]);
    }
  }
  const kernel = join(cacheDir, "kernel");
  for (const [sub, kind] of [
    ["downloads", "kernel-sources"],
    ["sources", "kernel-sources"],
    ["objects", "kernel-objects"],
    ["kernels", "kernels"],
  ] as const) {
    for (const e of await children(join(kernel, sub))) places.push([kind, join(kernel, sub, e.name)]);
  }
  for (const sub of ["guests", "boot-guests"]) {
    for (const e of await children(join(cacheDir, sub))) places.push(["guests", join(cacheDir, sub, e.name)]);
  }
  const entries: CacheEntry[] = [];
  for (const [kind, path] of places) {
    const st = await lstat(path).catch(() => undefined);
    if (!st) continue;
    entries.push({
      kind,
      path,
      name: relative(cacheDir, path),
      bytes: await diskUsage(path),
      modified: st.mtime,
    });
  }
  return entries.sort(
    (a, b) => CACHE_KINDS.indexOf(a.kind) - CACHE_KINDS.indexOf(b.kind) || a.name.localeCompare(b.name),
  );
}

async function diskUsage(path: string): Promise<number> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return 0;
  let bytes = st.blocks * 512;
  if (st.isDirectory()) {
    for (const name of await readdir(path).catch(() => [] as string[]))
      bytes += await diskUsage(join(path, name));
  }
  return bytes;
}

/** Locks under `dir` (or beside it: DIR.lock) held by a process that still runs. */
export async function liveLocks(dir: string): Promise<{ path: string; pid: number }[]> {
  const found: { path: string; pid: number }[] = [];
  const visit = async (path: string, depth: number): Promise<void> => {
    const name = path.split("/").pop() ?? "";
    if (isLockName(name)) {
      const pid = Number((await readFile(join(path, "pid"), "utf8").catch(() => "")).trim());
      if (pid > 0 && processAlive(pid)) found.push({ path, pid });
      return;
    }
    // Locks sit near the top of an entry; a whole kernel tree need not be walked for them.
    if (depth > 3) return;
    const entries = await readdir(path, { withFileTypes: true }).catch(() => [] as Dirent[]);
    for (const e of entries) if (e.isDirectory()) await visit(join(path, e.name), depth + 1);
  };
  await visit(dir, 0);
  await visit(`${dir}.lock`, 0);
  return found;
}

export async function removeEntry(entry: CacheEntry): Promise<void> {
  await rm(entry.path, { recursive: true, force: true, maxRetries: 3 });
}
