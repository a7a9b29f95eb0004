// StatsContainer: CPU, memory, pids, block I/O and huge page figures from the container's
// cgroups, v1 or v2, in the units upstream reports (nanoseconds, bytes).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CgroupStatsSchema } from "../../gen/agent_pb.js";
import { type CgroupPaths, v2Controllers } from "./cgroups.js";

type CgroupStatsInit = MessageInitShape<typeof CgroupStatsSchema>;
type Entry = { major: bigint; minor: bigint; op: string; value: bigint };

/** USER_HZ: cpuacct.stat counts in these ticks. */
const TICKS_PER_SECOND = 100n;

const read = (file: string): string | undefined => {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
};

/** A single number; "max" (no limit) reads as 0, as upstream reports it. */
const num = (file: string): bigint => {
  const text = read(file)?.trim();
  return text && /^\d+$/.test(text) ? BigInt(text) : 0n;
};

/** "key value" lines (memory.stat, cpu.stat, memory.events...). */
function keyed(file: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of read(file)?.split("\n") ?? []) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v && /^\d+$/.test(v)) out.set(k, BigInt(v));
  }
  return out;
}

export function readStats(paths: CgroupPaths): CgroupStatsInit {
  const v2 = paths.unified && v2Controllers(paths.unified).length ? paths.unified : undefined;
  return {
    cpuStats: cpu(paths, v2),
    memoryStats: memory(paths, v2),
    pidsStats: pids(paths, v2),
    blkioStats: blkio(paths, v2),
    hugetlbStats: hugetlb(paths, v2),
  };
}

function cpu(paths: CgroupPaths, v2: string | undefined): CgroupStatsInit["cpuStats"] {
  const acct = paths.v1.get("cpuacct");
  const cpuDir = paths.v1.get("cpu");
  if (acct) {
    const ticks = keyed(path.join(acct, "cpuacct.stat"));
    const toNs = (t: bigint | undefined) => ((t ?? 0n) * 1_000_000_000n) / TICKS_PER_SECOND;
    const throttle = cpuDir ? keyed(path.join(cpuDir, "cpu.stat")) : new Map<string, bigint>();
    return {
      cpuUsage: {
        totalUsage: num(path.join(acct, "cpuacct.usage")),
        percpuUsage: (read(path.join(acct, "cpuacct.usage_percpu")) ?? "")
          .trim()
          .split(/\s+/)
          .filter(Boolean)
          .map(BigInt),
        usageInUsermode: toNs(ticks.get("user")),
        usageInKernelmode: toNs(ticks.get("system")),
      },
      throttlingData: {
        periods: throttle.get("nr_periods") ?? 0n,
        throttledPeriods: throttle.get("nr_throttled") ?? 0n,
        throttledTime: throttle.get("throttled_time") ?? 0n,
      },
    };
  }
  if (v2) {
    const s = keyed(path.join(v2, "cpu.stat"));
    const us = (k: string) => (s.get(k) ?? 0n) * 1000n;
    return {
      cpuUsage: {
        totalUsage: us("usage_usec"),
        usageInUsermode: us("user_usec"),
        usageInKernelmode: us("system_usec"),
      },
      throttlingData: {
        periods: s.get("nr_periods") ?? 0n,
        throttledPeriods: s.get("nr_throttled") ?? 0n,
        throttledTime: us("throttled_usec"),
      },
    };
  }
  return undefined;
}

function memory(paths: CgroupPaths, v2: string | undefined): CgroupStatsInit["memoryStats"] {
  const v1 = paths.v1.get("memory");
  if (v1) {
    const f = (name: string) => num(path.join(v1, name));
    // memory.*, memory.memsw.* (with swap) and memory.kmem.* carry the same four counters.
    const counters = (prefix: string) => ({
      usage: f(`${prefix}usage_in_bytes`),
      maxUsage: f(`${prefix}max_usage_in_bytes`),
      failcnt: f(`${prefix}failcnt`),
      limit: f(`${prefix}limit_in_bytes`),
    });
    const stats = keyed(path.join(v1, "memory.stat"));
    return {
      cache: stats.get("cache") ?? 0n,
      usage: counters("memory."),
      swapUsage: counters("memory.memsw."),
      kernelUsage: counters("memory.kmem."),
      useHierarchy: f("memory.use_hierarchy") === 1n,
      stats: Object.fromEntries(stats),
    };
  }
  if (v2 && v2Controllers(v2).includes("memory")) {
    const f = (name: string) => num(path.join(v2, name));
    const stats = keyed(path.join(v2, "memory.stat"));
    const events = keyed(path.join(v2, "memory.events"));
    return {
      cache: stats.get("file") ?? 0n,
      usage: {
        usage: f("memory.current"),
        maxUsage: f("memory.peak"),
        failcnt: events.get("max") ?? 0n,
        limit: f("memory.max"),
      },
      swapUsage: {
        usage: f("memory.swap.current"),
        maxUsage: f("memory.swap.peak"),
        limit: f("memory.swap.max"),
      },
      kernelUsage: {
        usage: stats.get("kernel") ?? (stats.get("kernel_stack") ?? 0n) + (stats.get("slab") ?? 0n),
      },
      useHierarchy: true,
      stats: Object.fromEntries(stats),
    };
  }
  return undefined;
}

function pids(paths: CgroupPaths, v2: string | undefined): CgroupStatsInit["pidsStats"] {
  const dir = paths.v1.get("pids") ?? (v2 && v2Controllers(v2).includes("pids") ? v2 : undefined);
  if (!dir) return undefined;
  return { current: num(path.join(dir, "pids.current")), limit: num(path.join(dir, "pids.max")) };
}

function deviceEntries(file: string): Entry[] {
  const out: Entry[] = [];
  for (const line of read(file)?.split("\n") ?? []) {
    const m = /^(\d+):(\d+)\s+(\S+)\s+(\d+)$/.exec(line.trim());
    if (m) out.push({ major: BigInt(m[1]!), minor: BigInt(m[2]!), op: m[3]!, value: BigInt(m[4]!) });
  }
  return out;
}

function blkio(paths: CgroupPaths, v2: string | undefined): CgroupStatsInit["blkioStats"] {
  const v1 = paths.v1.get("blkio");
  if (v1) {
    // Kernels with blk-mq expose the throttle files only; fall back to them.
    const pick = (name: string) => {
      const direct = deviceEntries(path.join(v1, `blkio.${name}`));
      return direct.length ? direct : deviceEntries(path.join(v1, `blkio.throttle.${name}`));
    };
    return {
      ioServiceBytesRecursive: pick("io_service_bytes_recursive"),
      ioServicedRecursive: pick("io_serviced_recursive"),
      ioQueuedRecursive: deviceEntries(path.join(v1, "blkio.io_queued_recursive")),
      ioServiceTimeRecursive: deviceEntries(path.join(v1, "blkio.io_service_time_recursive")),
      ioWaitTimeRecursive: deviceEntries(path.join(v1, "blkio.io_wait_time_recursive")),
      ioMergedRecursive: deviceEntries(path.join(v1, "blkio.io_merged_recursive")),
      ioTimeRecursive: deviceEntries(path.join(v1, "blkio.time_recursive")),
      sectorsRecursive: deviceEntries(path.join(v1, "blkio.sectors_recursive")),
    };
  }
  if (v2 && v2Controllers(v2).includes("io")) {
    const bytes: Entry[] = [];
    const ios: Entry[] = [];
    for (const line of read(path.join(v2, "io.stat"))?.split("\n") ?? []) {
      const [dev, ...pairs] = line.trim().split(/\s+/);
      const m = dev ? /^(\d+):(\d+)$/.exec(dev) : null;
      if (!m) continue;
      const kv = new Map(pairs.map((p) => p.split("=") as [string, string]));
      const at = (op: string, key: string, list: Entry[]) =>
        list.push({ major: BigInt(m[1]!), minor: BigInt(m[2]!), op, value: BigInt(kv.get(key) ?? "0") });
      at("Read", "rbytes", bytes);
      at("Write", "wbytes", bytes);
      at("Discard", "dbytes", bytes);
      at("Read", "rios", ios);
      at("Write", "wios", ios);
      at("Discard", "dios", ios);
    }
    return { ioServiceBytesRecursive: bytes, ioServicedRecursive: ios };
  }
  return undefined;
}

function hugetlb(paths: CgroupPaths, v2: string | undefined): CgroupStatsInit["hugetlbStats"] {
  const dir = paths.v1.get("hugetlb") ?? (v2 && v2Controllers(v2).includes("hugetlb") ? v2 : undefined);
  if (!dir) return {};
  const out: NonNullable<CgroupStatsInit["hugetlbStats"]> = {};
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return {};
  }
  const isV1 = paths.v1.has("hugetlb");
  for (const name of names) {
    const m = isV1 ? /^hugetlb\.(\w+)\.usage_in_bytes$/.exec(name) : /^hugetlb\.(\w+)\.current$/.exec(name);
    if (!m) continue;
    const size = m[1]!;
    out[size] = isV1
      ? {
          usage: num(path.join(dir, `hugetlb.${size}.usage_in_bytes`)),
          maxUsage: num(path.join(dir, `hugetlb.${size}.max_usage_in_bytes`)),
          failcnt: num(path.join(dir, `hugetlb.${size}.failcnt`)),
        }
      : {
          usage: num(path.join(dir, `hugetlb.${size}.current`)),
          failcnt: keyed(path.join(dir, `hugetlb.${size}.events`)).get("max") ?? 0n,
        };
  }
  return out;
}
