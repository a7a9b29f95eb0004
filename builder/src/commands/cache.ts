// kata-build cache list|clean: the shared cache by kind, and removing parts of it
// (the library's cacheList() and cacheClean()).

import { UsageError, unknownCommand } from "../../../agent/src/cli/index.js";
import {
  CACHE_KIND_HELP,
  CACHE_KINDS,
  type CacheCleaning,
  type CacheListing,
  cacheClean,
  cacheKind,
  cacheList,
  cacheOptions,
} from "../api/cache.js";
import { defineCommand } from "./command.js";

const size = (bytes: number) =>
  bytes >= 1e9
    ? `${(bytes / 1e9).toFixed(2)} GB`
    : bytes >= 1e6
      ? `${(bytes / 1e6).toFixed(1)} MB`
      : `${(bytes / 1e3).toFixed(0)} kB`;

export const cacheCommand = defineCommand({
  name: "cache",
  summary: "list the shared cache by kind, or clean parts of it",
  usage: "kata-build cache list|clean [KIND ...] [--older-than DURATION] [--all] [--dry-run] [--cache DIR]",
  positionals: "list|clean [KIND ...]",
  description: [
    "list: every entry of the cache every command shares ($KATA_BUILD_CACHE, else ~/.cache/kata-build),",
    "with its kind, size on disk and age. clean: removes the entries of the kinds named (as arguments",
    "or with --kind), or of every kind with --all, that are older than --older-than if given; an",
    "entry a running build holds a lock in is kept. The next build fetches or builds again what it",
    "needs. Kinds:",
    ...CACHE_KINDS.map((k) => `  ${k.padEnd(16)}${CACHE_KIND_HELP[k]}`),
  ].join("\n"),
  options: cacheOptions,
  async run(values, positionals, { hooks }): Promise<CacheListing | CacheCleaning> {
    const [action, ...kinds] = positionals;
    const given = kinds.length
      ? { ...values, kind: [...(values.kind ?? []), ...kinds.map(cacheKind)] }
      : values;
    if (action === "list") return cacheList(given, hooks);
    if (action === "clean") return cacheClean(given, hooks);
    if (action === undefined) throw new UsageError("cache needs list or clean");
    throw unknownCommand(action, ["list", "clean"], "cache action");
  },
  text(result) {
    if ("entries" in result) {
      const rows = result.entries.map(
        (e) =>
          `  ${e.kind.padEnd(15)} ${size(e.bytes).padStart(9)}  ${e.modified.slice(0, 16).replace("T", " ")}  ${e.name}`,
      );
      return [
        `${result.cache}: ${size(result.totals.all)} in ${result.entries.length} entries`,
        ...rows,
        "",
      ].join("\n");
    }
    const verb = result.dryRun ? "would remove" : "removed";
    return [
      `${verb} ${result.removed.length} entries (${size(result.freedBytes)}) from ${result.cache}`,
      ...result.removed.map((n) => `  ${n}`),
      ...result.busy.map((b) => `  kept ${b.name}: in use by process ${b.pid}`),
      "",
    ].join("\n");
  },
});
