// cacheList() and cacheClean(): what the cache every command shares holds, and removing parts
// of it by kind and age (`kata-build cache list|clean`).
import { didYouMean, UsageError } from "../../../agent/src/cli/index.js";
import type { Given, OptionTable } from "../util/options.js";
import { resolveOptions } from "../util/options.js";
import {
  CACHE_KINDS,
  type CacheEntry,
  type CacheKind,
  listCache,
  liveLocks,
  removeEntry,
} from "../workspace/cache-inventory.js";
import type { BuildHooks } from "./hooks.js";
import { progressOf } from "./hooks.js";
import { cacheDirOf, cacheOption } from "./shared-options.js";

export {
  CACHE_KIND_HELP,
  CACHE_KINDS,
  type CacheEntry,
  type CacheKind,
} from "../workspace/cache-inventory.js";

export const cacheOptions = {
  cache: cacheOption,
  kind: {
    kind: "strings",
    arg: "KIND",
    choices: CACHE_KINDS,
    help: "only entries of this kind (repeatable; see above)",
  },
  olderThan: {
    kind: "string",
    arg: "DURATION",
    help: "only entries unchanged for this long: 30m, 12h, 7d",
  },
  all: { kind: "boolean", help: "clean: every kind (otherwise --kind is required)" },
  dryRun: { kind: "boolean", help: "clean: say what would be removed, remove nothing" },
} as const satisfies OptionTable;

export type CacheOptions = Given<typeof cacheOptions>;

export interface CacheListing {
  cache: string;
  entries: (Omit<CacheEntry, "modified"> & { modified: string })[];
  /** Bytes per kind, and in all. */
  totals: Partial<Record<CacheKind, number>> & { all: number };
}

export interface CacheCleaning {
  cache: string;
  removed: string[];
  /** Entries left because a running build holds a lock in them. */
  busy: { name: string; pid: number }[];
  freedBytes: number;
  dryRun: boolean;
}

function parseAge(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(m|h|d)$/.exec(text.trim());
  if (!m) throw new UsageError(`--older-than '${text}' is not a duration: 30m, 12h or 7d`);
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "m" | "h" | "d"];
}

async function selected(o: ReturnType<typeof resolveOptions<typeof cacheOptions>>): Promise<CacheEntry[]> {
  const kinds = new Set<string>(o.kind ?? CACHE_KINDS);
  const age = o.olderThan === undefined ? 0 : parseAge(o.olderThan);
  const now = Date.now();
  return (await listCache(cacheDirOf(o.cache))).filter(
    (e) => kinds.has(e.kind) && now - e.modified.getTime() >= age,
  );
}

export async function cacheList(options: CacheOptions = {}, _hooks: BuildHooks = {}): Promise<CacheListing> {
  const o = resolveOptions(cacheOptions, options);
  const entries = await selected(o);
  const totals: CacheListing["totals"] = { all: 0 };
  for (const e of entries) {
    totals[e.kind] = (totals[e.kind] ?? 0) + e.bytes;
    totals.all += e.bytes;
  }
  return {
    cache: cacheDirOf(o.cache),
    entries: entries.map((e) => ({ ...e, modified: e.modified.toISOString() })),
    totals,
  };
}

export async function cacheClean(options: CacheOptions = {}, hooks: BuildHooks = {}): Promise<CacheCleaning> {
  const o = resolveOptions(cacheOptions, options);
  if (!o.all && !o.kind?.length) {
    throw new UsageError(`say what to clean: --kind KIND (${CACHE_KINDS.join(", ")}), or --all`);
  }
  const progress = progressOf(hooks);
  const result: CacheCleaning = {
    cache: cacheDirOf(o.cache),
    removed: [],
    busy: [],
    freedBytes: 0,
    dryRun: o.dryRun === true,
  };
  for (const entry of await selected(o)) {
    const [lock] = await liveLocks(entry.path);
    if (lock) {
      result.busy.push({ name: entry.name, pid: lock.pid });
      progress.info(`kept ${entry.name}: process ${lock.pid} is using it`);
      continue;
    }
    if (!o.dryRun) await removeEntry(entry);
    result.removed.push(entry.name);
    result.freedBytes += entry.bytes;
  }
  return result;
}

/** A KIND argument checked, with a suggestion when it is close to one. */
export function cacheKind(word: string): CacheKind {
  if ((CACHE_KINDS as readonly string[]).includes(word)) return word as CacheKind;
  throw new UsageError(
    `unknown cache kind '${word}'${didYouMean(word, CACHE_KINDS)}; the kinds: ${CACHE_KINDS.join(", ")}`,
  );
}
