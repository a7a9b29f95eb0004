// Stage: remove what a guest never reads: documentation, man pages, locales, caches, logs and
// (unless kept) the package database together with the tools only the package manager uses.
// The lists are data: rootfs/common/strip.txt and rootfs/<distro>/strip.txt always, and
// rootfs/<distro>/strip-package-manager.txt when the package database goes.
import { lstat, readdir, readFile, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import type { With } from "../context.js";
import { parseList } from "../distro/package-lists.js";
import { hostPath } from "../util/in-root.js";
import { expandPattern } from "../util/patterns.js";

export { expandPattern, matchSegment } from "../util/patterns.js";

async function duBytes(path: string): Promise<number> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return 0;
  if (!st.isDirectory()) return st.blocks * 512;
  let total = st.blocks * 512;
  for (const name of await readdir(path)) total += await duBytes(join(path, name));
  return total;
}

async function readOptionalList(path: string): Promise<string[]> {
  try {
    return parseList(await readFile(path, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

/** The patterns for one build, in order: common, distribution, then package manager (if not kept). */
export async function stripPatterns(
  data: string,
  distro: string,
  packageDbPaths: readonly string[],
  keepPackageDb: boolean,
): Promise<string[]> {
  const patterns = parseList(await readFile(join(data, "common", "strip.txt"), "utf8"));
  patterns.push(...(await readOptionalList(join(data, distro, "strip.txt"))));
  if (!keepPackageDb) {
    patterns.push(...packageDbPaths);
    patterns.push(...(await readOptionalList(join(data, distro, "strip-package-manager.txt"))));
  }
  return patterns;
}

export async function stripRootfs(
  ctx: With<"data" | "root" | "distro">,
  input: { keepPackageDb: boolean },
): Promise<void> {
  const { root } = ctx;
  const { keepPackageDb } = input;
  const patterns = await stripPatterns(ctx.data, ctx.distro.name, ctx.distro.packageDbPaths, keepPackageDb);
  let freed = 0;
  for (const pattern of patterns) {
    // "dir/*" empties a directory and keeps it; a "*" elsewhere removes what it matches.
    for (const rel of await expandPattern(root, pattern)) {
      const path = await hostPath(root, rel);
      const st = await lstat(path).catch(() => undefined);
      if (!st) continue;
      freed += await duBytes(path);
      await rm(path, { recursive: true, force: true });
    }
  }
  // /var/tmp shares /tmp (a tmpfs in the guest).
  if (await lstat(await hostPath(root, "/var")).catch(() => undefined)) {
    const varTmp = await hostPath(root, "/var/tmp");
    await rm(varTmp, { recursive: true, force: true });
    await symlink("../tmp", varTmp);
  }
  ctx.manifest.strip = { freedBytes: freed, packageDbKept: keepPackageDb, patterns: patterns.length };
  ctx.progress.info(`removed ${(freed / 1048576).toFixed(1)} MiB`);
}
