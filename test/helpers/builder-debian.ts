// One Debian root filesystem shared by every builder test file (and across runs): built with
// the real mmdebstrap the first time, then reused while its inputs (package lists, common
// files, agent bundle, the builder's code) are unchanged. Test files running in parallel wait
// on a lock. The package cache (.debs, lists, base trees) makes a rebuild take seconds.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { buildRootfs, type RootfsConfig } from "../../builder/src/pipelines/rootfs.js";
import { dataDir } from "../../builder/src/util/paths.js";
import { Progress } from "../../builder/src/util/progress.js";
import { agentDir, ensureAgentBuilt, repo } from "./builder-agent.js";

export const EPOCH = 1700000000;
export const cacheRoot = join(repo, ".cache", "test-builder");
/** The package cache every builder test shares (.debs, package lists, base trees). */
export const packageCache = join(cacheRoot, "packages");

/** The configuration the shared root is built with (tests vary `out` and `cache`). */
export function debianConfig(
  out: string,
  init: "systemd" | "agent" = "systemd",
  over: Partial<RootfsConfig> = {},
): RootfsConfig {
  return {
    distro: "debian",
    init,
    out,
    name: "rootfs",
    data: dataDir(),
    cache: packageCache,
    agentDir,
    repoGpgcheck: true,
    tar: true,
    keepPackageDb: false,
    extraPackages: [],
    epoch: EPOCH,
    ...over,
  };
}

function hashTree(path: string, h: ReturnType<typeof createHash>): void {
  const st = statSync(path);
  if (st.isDirectory()) {
    for (const name of readdirSync(path).sort()) hashTree(join(path, name), h);
  } else {
    h.update(path).update(readFileSync(path));
  }
}

export interface DebianRootfs {
  /** Directory holding rootfs/, rootfs.tar and the manifest and SBOM. */
  out: string;
  root: string;
  tar: string;
  manifest: Record<string, unknown>;
  /** Seconds the build took (undefined when it came from the cache). */
  buildSeconds?: number;
}

/** The shared Debian root of this start mode; agent-as-init roots carry the start-up snapshot. */
export async function debianRootfs(init: "systemd" | "agent" = "systemd"): Promise<DebianRootfs> {
  ensureAgentBuilt();
  const h = createHash("sha256").update(init);
  for (const d of ["common", "debian"]) hashTree(join(dataDir(), d), h);
  hashTree(join(agentDir, "dist"), h);
  // The builder code that makes the root too: with the base-tree cache a rebuild takes seconds.
  for (const d of ["context.ts", "pipelines", "distro", "formats", "stages", "tools", "util", "workspace"]) {
    hashTree(join(repo, "builder", "src", d), h);
  }
  const key = h.digest("hex").slice(0, 16);
  const out = join(cacheRoot, `debian-${init}-${key}`);
  const done = join(out, "rootfs.manifest.json");
  const lock = join(cacheRoot, `debian-${init}.lock`);
  mkdirSync(cacheRoot, { recursive: true });
  let buildSeconds: number | undefined;
  for (;;) {
    if (existsSync(done)) break;
    try {
      mkdirSync(lock);
    } catch {
      // Another test file is building it; a lock older than 20 minutes is stale.
      if (Date.now() - statSync(lock).mtimeMs > 20 * 60_000) rmSync(lock, { recursive: true, force: true });
      await sleep(2000);
      continue;
    }
    try {
      if (!existsSync(done)) {
        const started = Date.now();
        await buildRootfs(
          debianConfig(out, init, { snapshot: init === "agent" }),
          new Progress({ write: (line) => process.stderr.write(`[debian rootfs] ${line}\n`) }),
        );
        buildSeconds = (Date.now() - started) / 1000;
        writeFileSync(join(cacheRoot, `debian-${init}.seconds`), String(buildSeconds));
        // Roots built from earlier inputs are of no further use (about 400 MB each).
        for (const name of readdirSync(cacheRoot)) {
          if (name.startsWith(`debian-${init}-`) && name !== `debian-${init}-${key}`) {
            rmSync(join(cacheRoot, name), { recursive: true, force: true });
          }
        }
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  return {
    out,
    root: join(out, "rootfs"),
    tar: join(out, "rootfs.tar"),
    manifest: JSON.parse(readFileSync(done, "utf8")),
    buildSeconds,
  };
}
