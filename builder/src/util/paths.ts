// Where the repository's own inputs live: the rootfs/ data tree and the agent's build
// outputs. Found by walking up from this module, which works both from builder/src (tests)
// and from the bundle in builder/dist.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the agent lives inside a guest's root. */
export const AGENT_DIR_IN_ROOT = "/usr/lib/kata-agent";

let cached: string | undefined;

export function repoRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "rootfs", "common")) && existsSync(join(dir, "package.json"))) {
      cached = dir;
      return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find the repository root (a directory holding rootfs/common)");
    dir = up;
  }
}

/** The rootfs/ data directory (package lists, files to lay in, repository definitions). */
export function dataDir(): string {
  return join(repoRoot(), "rootfs");
}

/** rootfs/kernel: fragments/, whitelist.conf, versions.conf. */
export function defaultKernelDataDir(): string {
  return join(dataDir(), "kernel");
}

/** The agent's build outputs: the bundle directory and the native addon directory. */
export function defaultAgentDir(): string {
  return join(repoRoot(), "agent");
}

/** Where every build keeps its caches: $KATA_BUILD_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/kata-build. */
export function defaultCacheDir(env = process.env): string {
  if (env.KATA_BUILD_CACHE) return env.KATA_BUILD_CACHE;
  return join(env.XDG_CACHE_HOME || join(env.HOME || "/root", ".cache"), "kata-build");
}
