// Outputs appear atomically: a build writes into a staging directory beside the output
// directory and renames each artifact into place only when everything succeeded, so an
// interrupted or failed build never leaves a half-written file under a final name.
import { rmSync } from "node:fs";
import { lstat, mkdir, mkdtemp, rename, rm } from "node:fs/promises";
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

/** Removes every live staging directory when the process is interrupted. */
function installSignalCleanup(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      const cleaned = live.size > 0;
      // Children (QEMU, mkfs, make) would otherwise go on writing into what is being deleted.
      if (cleaned) stopChildrenSync();
      for (const dir of live) {
        try {
          // Synchronous on purpose: the process is about to exit.
          detachMountsBeneath(dir);
          rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
        } catch {
          // best effort
        }
      }
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

/**
 * Runs `build` with a staging directory created next to `outDir` (same filesystem, so the
 * final rename is atomic), then moves the returned artifact names into `outDir`.
 */
export async function withStaging<T extends { artifacts: string[] }>(
  outDir: string,
  build: (staging: Staging) => Promise<T>,
): Promise<T> {
  const out = resolve(outDir);
  await mkdir(out, { recursive: true });
  const dir = await mkdtemp(join(dirname(out), `.${basename(out)}.staging-`));
  live.add(dir);
  installSignalCleanup();
  try {
    const result = await build({ dir, path: (name) => join(dir, name) });
    for (const name of result.artifacts) {
      const target = join(out, name);
      // A directory artifact (a root filesystem tree) cannot replace an existing directory
      // with one rename: move the old one into the staging area first, where it is removed.
      const old = await lstat(target).catch(() => undefined);
      if (old?.isDirectory()) await rename(target, join(dir, `.previous-${name}`));
      await rename(join(dir, name), target);
    }
    return result;
  } finally {
    live.delete(dir);
    detachMountsBeneath(dir);
    await rm(dir, { recursive: true, force: true });
  }
}
