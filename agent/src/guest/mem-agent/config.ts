// The mem-agent's two configurations, with upstream's defaults and field names, and how the
// agent.mem_agent_* boot parameters and the MemAgent*Set RPCs update them.
import { InvalidInputError } from "../../core/domain-error.js";

export interface MemcgConfig {
  disabled: boolean;
  /** Whether reclaim may push anonymous memory to swap. */
  swap: boolean;
  /** Swappiness used while reclaiming when `swap` is on (cgroup v1: written to memory.swappiness). */
  swappinessMax: number;
  periodSecs: number;
  /** Skip a round when the guest's memory pressure over the last period exceeded this percentage. */
  periodPsiPercentLimit: number;
  /** Skip a cgroup whose own memory pressure over the last period exceeded this percentage. */
  evictionPsiPercentLimit: number;
  /** Multi-gen LRU aging count (accepted and stored; this agent reclaims through memory.reclaim). */
  evictionRunAgingCountMin: number;
}

export interface CompactConfig {
  disabled: boolean;
  periodSecs: number;
  /** Skip compaction when memory pressure over the last period exceeded this percentage. */
  periodPsiPercentLimit: number;
  /** Stop a running compaction when memory pressure rises above this percentage. */
  compactPsiPercentLimit: number;
  /** Stop a running compaction after this many seconds. */
  compactSecMax: number;
  /** Free pages below this order count as fragmented. */
  compactOrder: number;
  /** Pages of change (free movable pages up, or MemFree down) that make compaction worth it. */
  compactThreshold: number;
  /** Compact anyway after this many skipped periods (Infinity: never force). */
  compactForceTimes: number;
}

/** PAGE_REPORTING_MIN_ORDER: free-page reporting to the host works on blocks of this order. */
const PAGE_REPORTING_MIN_ORDER = 9;

export const defaultMemcg: MemcgConfig = {
  disabled: false,
  swap: false,
  swappinessMax: 50,
  periodSecs: 600,
  periodPsiPercentLimit: 1,
  evictionPsiPercentLimit: 1,
  evictionRunAgingCountMin: 3,
};

export const defaultCompact: CompactConfig = {
  disabled: false,
  periodSecs: 600,
  periodPsiPercentLimit: 1,
  compactPsiPercentLimit: 5,
  compactSecMax: 1800,
  compactOrder: PAGE_REPORTING_MIN_ORDER,
  compactThreshold: 2 << PAGE_REPORTING_MIN_ORDER,
  compactForceTimes: Number.POSITIVE_INFINITY,
};

/** The boot parameters (agent.mem_agent_<name>) for each field; names as upstream. */
const MEMCG_PARAMETERS: Record<keyof MemcgConfig, string> = {
  disabled: "memcg_disable",
  swap: "memcg_swap",
  swappinessMax: "memcg_swappiness_max",
  periodSecs: "memcg_period_secs",
  periodPsiPercentLimit: "memcg_period_psi_percent_limit",
  evictionPsiPercentLimit: "memcg_eviction_psi_percent_limit",
  evictionRunAgingCountMin: "memcg_eviction_run_aging_count_min",
};

const COMPACT_PARAMETERS: Record<keyof CompactConfig, string> = {
  disabled: "compact_disable",
  periodSecs: "compact_period_secs",
  periodPsiPercentLimit: "compact_period_psi_percent_limit",
  compactPsiPercentLimit: "compact_psi_percent_limit",
  compactSecMax: "compact_sec_max",
  compactOrder: "compact_order",
  compactThreshold: "compact_threshold",
  compactForceTimes: "compact_force_times",
};

export type Update<T> = { [K in keyof T]?: T[K] | bigint | undefined };

/** The configurations the boot parameters ask for (parsed by the config table). */
export function fromParameters(params: Readonly<Record<string, unknown>>): {
  memcg: MemcgConfig;
  compact: CompactConfig;
} {
  const pick = <T extends object>(names: Record<keyof T, string>) => {
    const update: Record<string, unknown> = {};
    for (const [field, name] of Object.entries(names) as [string, string][]) {
      if (params[name] !== undefined) update[field] = params[name];
    }
    return update as Update<T>;
  };
  return {
    memcg: merge(
      defaultMemcg,
      pick<MemcgConfig>(MEMCG_PARAMETERS),
      (f) => `agent.mem_agent_${MEMCG_PARAMETERS[f]}`,
    ),
    compact: merge(
      defaultCompact,
      pick<CompactConfig>(COMPACT_PARAMETERS),
      (f) => `agent.mem_agent_${COMPACT_PARAMETERS[f]}`,
    ),
  };
}

/**
 * `config` with the fields `update` sets (the proto's optional fields: unset keeps the current
 * value). Rejects values that cannot work, naming the field as `nameOf` spells it (the proto
 * field name by default).
 */
export function merge<T extends MemcgConfig | CompactConfig>(
  config: T,
  update: Update<T>,
  nameOf: (field: keyof T) => string = (field) => snake(String(field)),
): T {
  const next: Record<string, unknown> = { ...config };
  for (const [field, raw] of Object.entries(update)) {
    if (raw === undefined || !(field in config)) continue;
    const current = next[field];
    if (typeof current === "boolean") {
      next[field] = Boolean(raw);
      continue;
    }
    const value = toNumber(raw);
    const name = nameOf(field as keyof T);
    if (field === "periodSecs" && value < 1) fail(`${name} must be at least 1 second, not ${raw}`);
    if (field.endsWith("PercentLimit") && (value < 0 || value > 100))
      fail(`${name} is a percentage (0-100), not ${raw}`);
    if (field === "swappinessMax" && (value < 0 || value > 200)) fail(`${name} must be 0-200, not ${raw}`);
    if (value < 0 && field !== "compactSecMax") fail(`${name} cannot be negative (${raw})`);
    next[field] = value;
  }
  return next as T;
}

/** u64 values at or beyond 2^53 mean "never" upstream (u64::MAX); keep them as Infinity. */
function toNumber(raw: unknown): number {
  if (typeof raw === "bigint") return raw >= 2n ** 53n ? Number.POSITIVE_INFINITY : Number(raw);
  return Number(raw);
}

function snake(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function fail(message: string): never {
  throw new InvalidInputError(message);
}
