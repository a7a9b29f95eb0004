// Stage: remove what a guest never reads: documentation, man pages, locales, caches, logs and
// (unless kept) the package database.
import { lstat, readdir, readFile, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import type { BuildContext } from "../build/context.js";
import { parseList } from "../distro/package-lists.js";
import { hostPath } from "../util/in-root.js";

async function duBytes(path: string): Promise<number> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return 0;
  if (!st.isDirectory()) return st.blocks * 512;
  let total = st.blocks * 512;
  for (const name of await readdir(path)) total += await duBytes(join(path, name));
  return total;
}

export async function stripRootfs(
  ctx: BuildContext,
  data: string,
  root: string,
  packageDbPaths: readonly string[],
  keepPackageDb: boolean,
): Promise<void> {
  const patterns = parseList(await readFile(join(data, "common", "strip.txt"), "utf8"));
  if (!keepPackageDb) patterns.push(...packageDbPaths);
  let freed = 0;
  for (const pattern of patterns) {
    const emptyOnly = pattern.endsWith("/*");
    const rel = emptyOnly ? pattern.slice(0, -2) : pattern;
    const path = await hostPath(root, `/${rel}`);
    const st = await lstat(path).catch(() => undefined);
    if (!st) continue;
    if (emptyOnly && st.isDirectory()) {
      for (const name of await readdir(path)) {
        freed += await duBytes(join(path, name));
        await rm(join(path, name), { recursive: true, force: true });
      }
    } else {
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
  ctx.manifest.strip = { freedBytes: freed, packageDbKept: keepPackageDb };
  ctx.progress.info(`removed ${(freed / 1048576).toFixed(1)} MiB`);
}
