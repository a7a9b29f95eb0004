// Merging config fragments: later fragments win, and every decision is kept so a report can say
// which file asked for a value and which earlier request it replaced.
import { createHash } from "node:crypto";
import { type ConfigEntry, formatEntry } from "./config-file.js";

export interface Fragment {
  /** Where it came from, as shown to users (e.g. `common/virtio.conf`). */
  name: string;
  entries: ConfigEntry[];
}

export interface Request {
  symbol: string;
  value: string;
  /** Fragment that set the final value. */
  from: string;
  /** Earlier requests for the same symbol that this one replaced. */
  overrides: { value: string; from: string }[];
}

export interface MergedConfig {
  /** Final requests by symbol, in symbol order. */
  requests: Map<string, Request>;
}

export function mergeFragments(fragments: readonly Fragment[]): MergedConfig {
  const unsorted = new Map<string, Request>();
  for (const fragment of fragments) {
    for (const entry of fragment.entries) {
      const earlier = unsorted.get(entry.symbol);
      const overrides = earlier ? [...earlier.overrides, { value: earlier.value, from: earlier.from }] : [];
      unsorted.set(entry.symbol, {
        symbol: entry.symbol,
        value: entry.value,
        from: fragment.name,
        overrides,
      });
    }
  }
  const requests = new Map([...unsorted.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { requests };
}

/** The merged requests as `.config` text (the KCONFIG_ALLCONFIG input); stable for hashing. */
export function renderMerged(merged: MergedConfig): string {
  return [...merged.requests.values()].map((r) => `${formatEntry(r.symbol, r.value)}\n`).join("");
}

export function mergedHash(merged: MergedConfig): string {
  return createHash("sha256").update(renderMerged(merged)).digest("hex");
}

/** Requests whose value replaced a different earlier value (same-value repeats are not listed). */
export function conflicts(merged: MergedConfig): Request[] {
  return [...merged.requests.values()].filter((r) => r.overrides.some((o) => o.value !== r.value));
}
