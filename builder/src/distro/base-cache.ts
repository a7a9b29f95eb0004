// A cache of bootstrapped base trees: the root filesystem exactly as the package manager left
// it, stored under a key of everything that was asked for (distribution, sources, package list,
// options, tool version), with the package versions it holds. A later build with the same key
// copies the tree instead of installing again, but only while every one of those versions is
// still the one the repositories would install now (see staleReasons); otherwise it installs
// afresh and replaces the entry. One entry per key, so the cache does not grow with time.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { copyTree } from "../tools/cp.js";
import { check } from "../tools/run.js";
import { trackTemporary, untrackTemporary } from "../workspace/atomic.js";

export interface PackageVersion {
  name: string;
  version: string;
  arch: string;
}

export interface BaseRecord {
  schema: 1;
  key: string;
  /** What was asked for; the key is its digest. */
  request: Record<string, unknown>;
  /** Every package installed in the tree. */
  installed: PackageVersion[];
  /** The repositories' bootstrap seed set when the tree was made (essential/required names). */
  seeds: string[];
  /** ISO time the tree was made. */
  created: string;
}

export interface BaseEntry {
  record: BaseRecord;
  /** The stored tree. */
  root: string;
}

/** Digest of a request object (built in a fixed key order by its caller). */
export function baseKey(request: Record<string, unknown>): string {
  return createHash("sha256").update(JSON.stringify(request)).digest("hex").slice(0, 24);
}

const entryDir = (dir: string, key: string) => join(dir, key);

export async function readBase(dir: string, key: string): Promise<BaseEntry | undefined> {
  const at = entryDir(dir, key);
  try {
    const record = JSON.parse(await readFile(join(at, "record.json"), "utf8")) as BaseRecord;
    if (record.schema !== 1 || record.key !== key || !existsSync(join(at, "root"))) return undefined;
    return { record, root: join(at, "root") };
  } catch {
    return undefined;
  }
}

/**
 * Why a stored tree may not be reused: each package whose candidate version differs from the
 * installed one (or that the repositories no longer have), and a changed seed set.
 */
export function staleReasons(
  record: BaseRecord,
  candidates: ReadonlyMap<string, string | undefined>,
  seeds: readonly string[],
): string[] {
  const reasons: string[] = [];
  for (const p of record.installed) {
    const now = candidates.get(p.name);
    if (now === undefined) reasons.push(`${p.name} ${p.version} is no longer available`);
    else if (now !== p.version) reasons.push(`${p.name} ${p.version} -> ${now}`);
  }
  const before = new Set(record.seeds);
  const after = new Set(seeds);
  const added = [...after].filter((s) => !before.has(s));
  const removed = [...before].filter((s) => !after.has(s));
  if (added.length) reasons.push(`new essential/required packages: ${added.join(" ")}`);
  if (removed.length) reasons.push(`no longer essential/required: ${removed.join(" ")}`);
  return reasons;
}

/** Copies a stored tree into `root` (an empty directory), preserving everything. */
export async function restoreBase(entry: BaseEntry, root: string, signal?: AbortSignal): Promise<void> {
  await mkdir(root, { recursive: true });
  check(await copyTree(entry.root, root, { cancelSignal: signal }), "copying the cached base tree");
}

/**
 * Stores `root` (left as it is) under the record's key: copied to a temporary name beside the
 * entry and renamed into place, so a reader never sees half an entry and an interrupted store
 * leaves only a temporary directory (removed by the next store).
 */
export async function storeBase(
  dir: string,
  record: BaseRecord,
  root: string,
  signal?: AbortSignal,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await removeLeftovers(dir);
  const tmp = join(dir, `.tmp-${record.key}-${process.pid}`);
  trackTemporary(tmp);
  try {
    await rm(tmp, { recursive: true, force: true });
    await mkdir(join(tmp, "root"), { recursive: true });
    check(await copyTree(root, join(tmp, "root"), { cancelSignal: signal }), "storing the base tree");
    await writeFile(join(tmp, "record.json"), `${JSON.stringify(record, null, 2)}\n`);
    const at = entryDir(dir, record.key);
    const old = join(dir, `.old-${record.key}-${process.pid}`);
    if (existsSync(at)) await rename(at, old);
    await rename(tmp, at);
    await rm(old, { recursive: true, force: true });
  } finally {
    await rm(tmp, { recursive: true, force: true });
    untrackTemporary(tmp);
  }
}

/** Temporary and replaced entries of stores that were interrupted more than an hour ago. */
async function removeLeftovers(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!name.startsWith(".tmp-") && !name.startsWith(".old-")) continue;
    const st = await stat(join(dir, name)).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > 3600_000) await rm(join(dir, name), { recursive: true, force: true });
  }
}
