// Outputs appear atomically: a build writes into a staging directory beside the output
// directory and renames each artifact into place only when everything succeeded, so an
// interrupted or failed build never leaves a half-written file under a final name.
import { rmSync } from "node:fs";
import { lstat, mkdir, mkdtemp, readFile, rename, rm, rmdir } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { detachSync } from "../tools/umount.js";
import { stopChildrenSync } from "../util/children.js";
import { mountsBeneath } from "../util/mounts.js";

/** Lazily detaches every mount beneath `dir`. Synchronous so the interrupt handler can use it. */
function detachMountsBeneath(dir: string): void {
  // One that cannot be detached is not ours; the removal that follows stays on this filesystem.
  for (const point of mountsBeneath(dir)) detachSync(point);
}

const live = new Set<string>();
let handlersInstalled = false;

/** Removes every live staging directory now (synchronous: the process is about to end). */
function removeLiveSync(): void {
  for (const dir of live) {
    try {
      detachMountsBeneath(dir);
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // best effort
    }
  }
  live.clear();
}

/**
 * Removes every live staging directory when the process is interrupted, and when it exits
 * with one still there (a build that failed in a way nothing caught still leaves nothing).
 */
function installSignalCleanup(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once("exit", () => {
    if (live.size > 0) removeLiveSync();
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      const cleaned = live.size > 0;
      // Children (QEMU, mkfs, make) would otherwise go on writing into what is being deleted.
      if (cleaned) stopChildrenSync();
      removeLiveSync();
      if (cleaned) process.stderr.write(`\ninterrupted (${signal}); no partial output was left behind\n`);
      process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 1));
    });
  }
}

/** Removes `dir` too if the process is interrupted (a cache entry being written, say). */
export function trackTemporary(dir: string): void {
  live.add(dir);
  installSignalCleanup();
}

export function untrackTemporary(dir: string): void {
  live.delete(dir);
}

export interface Staging {
  /** Directory to write artifacts into. */
  readonly dir: string;
  /** Path for an artifact inside the staging directory. */
  path(name: string): string;
}

export interface StagingOptions {
  /**
   * The manifest among the artifacts. The outputs of one build are replaced as a set: what the
   * manifest of the build before listed and this build does not write (a root_hash.txt from a
   * build with --verity, say) is removed, so that nothing stale sits beside the new outputs.
   */
  manifest?: string;
}

/**
 * Runs `build` with a staging directory created next to `outDir` (same filesystem, so the
 * final rename is atomic), then moves the returned artifact names into `outDir`. `outDir` is
 * made only then: a build that fails leaves no empty output directory (nor parents it made).
 */
export async function withStaging<T extends { artifacts: string[] }>(
  outDir: string,
  build: (staging: Staging) => Promise<T>,
  options: StagingOptions = {},
): Promise<T> {
  const out = resolve(outDir);
  const parent = dirname(out);
  const madeParent = await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(join(parent, `.${basename(out)}.staging-`));
  live.add(dir);
  installSignalCleanup();
  let succeeded = false;
  try {
    const result = await build({ dir, path: (name) => join(dir, name) });
    await mkdir(out, { recursive: true });
    if (options.manifest) await removeStale(out, dir, options.manifest, result.artifacts);
    for (const name of result.artifacts) {
      const target = join(out, name);
      // A directory artifact (a root filesystem tree) cannot replace an existing directory
      // with one rename: move the old one into the staging area first, where it is removed.
      const old = await lstat(target).catch(() => undefined);
      if (old?.isDirectory()) await rename(target, join(dir, `.previous-${name}`));
      await rename(join(dir, name), target);
    }
    succeeded = true;
    return result;
  } finally {
    live.delete(dir);
    detachMountsBeneath(dir);
    await rm(dir, { recursive: true, force: true });
    if (!succeeded && madeParent) await removeEmptyUpTo(parent, madeParent);
  }
}

/**
 * Moves out of `out` (into the staging directory, removed with it) what the previous manifest
 * there listed and this build does not write again.
 */
async function removeStale(
  out: string,
  staging: string,
  manifest: string,
  artifacts: string[],
): Promise<void> {
  let previous: unknown;
  try {
    previous = JSON.parse(await readFile(join(out, manifest), "utf8"));
  } catch {
    return; // no previous build here, or not ours
  }
  const outputs = (previous as { outputs?: unknown }).outputs;
  if (!Array.isArray(outputs)) return;
  const keep = new Set(artifacts);
  for (const output of outputs) {
    const name = (output as { name?: unknown }).name;
    // Only plain names: a manifest is no licence to touch anything outside `out`.
    if (typeof name !== "string" || name === "" || name.includes("/") || name === "." || name === "..")
      continue;
    if (keep.has(name)) continue;
    const stale = join(out, name);
    if (await lstat(stale).catch(() => undefined)) await rename(stale, join(staging, `.stale-${name}`));
  }
}

/** Removes `dir` and its parents up to and including `top` while they are empty. */
async function removeEmptyUpTo(dir: string, top: string): Promise<void> {
  for (let cur = dir; cur.startsWith(top); cur = dirname(cur)) {
    try {
      await rmdir(cur);
    } catch {
      return; // not empty: someone else's now
    }
    if (cur === top) return;
  }
}
