// kata_guest_*: the whole guest, from /proc and statfs (upstream's families and item names).
import type { StatsFs } from "node:fs";
import { statfs } from "node:fs/promises";
import { join } from "node:path";
import type { Exposition } from "./exposition.js";
import {
  CPU_TIME_ITEMS,
  DISKSTAT_ITEMS,
  NETDEV_ITEMS,
  parseCpuTimes,
  parseDiskStats,
  parseKeyValues,
  parseLoadAvg,
  parseMounts,
  parseNameValues,
  parseNetDev,
  TICKS_PER_SECOND,
} from "./procfs.js";
import { readText } from "./read.js";

/** /proc/meminfo keys with the item names upstream gives them; other keys get a snake_case name. */
const MEMINFO_ITEMS: Record<string, string> = {
  MemTotal: "mem_total",
  MemFree: "mem_free",
  MemAvailable: "mem_available",
  Buffers: "buffers",
  Cached: "cached",
  SwapCached: "swap_cached",
  Active: "active",
  Inactive: "inactive",
  "Active(anon)": "active_anon",
  "Inactive(anon)": "inactive_anon",
  "Active(file)": "active_file",
  "Inactive(file)": "inactive_file",
  Unevictable: "unevictable",
  Mlocked: "mlocked",
  HighTotal: "high_total",
  HighFree: "high_free",
  LowTotal: "low_total",
  LowFree: "low_free",
  MmapCopy: "mmap_copy",
  SwapTotal: "swap_total",
  SwapFree: "swap_free",
  Dirty: "dirty",
  Writeback: "writeback",
  AnonPages: "anon_pages",
  Mapped: "mapped",
  Shmem: "shmem",
  Slab: "slab",
  SReclaimable: "s_reclaimable",
  SUnreclaim: "s_unreclaim",
  KernelStack: "kernel_stack",
  PageTables: "page_tables",
  Quicklists: "quicklists",
  NFS_Unstable: "nfs_unstable",
  Bounce: "bounce",
  WritebackTmp: "writeback_tmp",
  CommitLimit: "commit_limit",
  Committed_AS: "committed_as",
  VmallocTotal: "vmalloc_total",
  VmallocUsed: "vmalloc_used",
  VmallocChunk: "vmalloc_chunk",
  HardwareCorrupted: "hardware_corrupted",
  AnonHugePages: "anon_hugepages",
  ShmemHugePages: "shmem_hugepages",
  ShmemPmdMapped: "shmem_pmd_mapped",
  CmaTotal: "cma_total",
  CmaFree: "cma_free",
  HugePages_Total: "hugepages_total",
  HugePages_Free: "hugepages_free",
  HugePages_Rsvd: "hugepages_rsvd",
  HugePages_Surp: "hugepages_surp",
  Hugepagesize: "hugepagesize",
  DirectMap4k: "direct_map_4k",
  DirectMap4M: "direct_map_4M",
  DirectMap2M: "direct_map_2M",
  DirectMap1G: "direct_map_1G",
  Hugetlb: "hugetlb",
  Percpu: "per_cpu",
  KReclaimable: "k_reclaimable",
};

/** "FileHugePages" → "file_huge_pages", for keys newer than upstream's table. */
export function snakeCase(key: string): string {
  return key
    .replace(/[()]/g, "_")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .replace(/_+/g, "_")
    .replace(/^_|_$/g, "")
    .toLowerCase();
}

/** Filesystems with no capacity worth reporting. */
const PSEUDO_FS = new Set([
  "proc",
  "sysfs",
  "cgroup",
  "cgroup2",
  "devpts",
  "mqueue",
  "debugfs",
  "tracefs",
  "securityfs",
  "pstore",
  "bpf",
  "configfs",
  "fusectl",
  "hugetlbfs",
  "autofs",
  "binfmt_misc",
  "rpc_pipefs",
  "nsfs",
  "efivarfs",
  "selinuxfs",
]);

/** A statfs on a dead virtio-fs or 9p share can hang; a scrape does not wait longer than this. */
const STATFS_TIMEOUT_MS = 1000;

export async function addGuestMetrics(out: Exposition, proc: string, problems: string[]): Promise<void> {
  const load = out.family("kata_guest_load", "gauge", "Guest system load averages (load1, load5, load15).");
  const tasks = out.family(
    "kata_guest_tasks",
    "gauge",
    "Guest scheduling entities from /proc/loadavg: cur (runnable) and max (all).",
  );
  const cpuTime = out.family(
    "kata_guest_cpu_time",
    "gauge",
    "Guest CPU time per CPU and in total, in milliseconds.",
  );
  const vmStat = out.family(
    "kata_guest_vm_stat",
    "gauge",
    "Guest virtual memory statistics from /proc/vmstat.",
  );
  const netdev = out.family(
    "kata_guest_netdev_stat",
    "gauge",
    "Guest network device statistics from /proc/net/dev.",
  );
  const diskstat = out.family("kata_guest_diskstat", "gauge", "Guest disk statistics from /proc/diskstats.");
  const meminfo = out.family(
    "kata_guest_meminfo",
    "gauge",
    "Guest memory usage from /proc/meminfo, in bytes (HugePages_* items are page counts).",
  );
  const fsBytes = out.family(
    "kata_guest_filesystem_bytes",
    "gauge",
    "Guest filesystem capacity in bytes (total, free, avail to unprivileged users, used).",
  );
  const fsInodes = out.family(
    "kata_guest_filesystem_inodes",
    "gauge",
    "Guest filesystem inodes (total, free, used).",
  );

  const loadavg = await readText(join(proc, "loadavg"), problems);
  if (loadavg !== undefined) {
    const l = parseLoadAvg(loadavg);
    load(l.load1, { item: "load1" });
    load(l.load5, { item: "load5" });
    load(l.load15, { item: "load15" });
    tasks(l.running, { item: "cur" });
    tasks(l.total, { item: "max" });
  }

  const stat = await readText(join(proc, "stat"), problems);
  if (stat !== undefined) {
    for (const { cpu, ticks } of parseCpuTimes(stat)) {
      CPU_TIME_ITEMS.forEach((item, i) => {
        cpuTime(((ticks[i] ?? 0) * 1000) / TICKS_PER_SECOND, { cpu, item });
      });
    }
  }

  const vmstat = await readText(join(proc, "vmstat"), problems);
  if (vmstat !== undefined) for (const [item, value] of parseNameValues(vmstat)) vmStat(value, { item });

  const dev = await readText(join(proc, "net/dev"), problems);
  if (dev !== undefined) {
    for (const { name, counters } of parseNetDev(dev)) {
      NETDEV_ITEMS.forEach((item, i) => {
        netdev(counters[i] ?? 0, { interface: name, item });
      });
    }
  }

  const disks = await readText(join(proc, "diskstats"), problems);
  if (disks !== undefined) {
    for (const { name, counters } of parseDiskStats(disks)) {
      DISKSTAT_ITEMS.forEach((item, i) => {
        if (i < counters.length) diskstat(counters[i] ?? 0, { disk: name, item });
      });
    }
  }

  const mem = await readText(join(proc, "meminfo"), problems);
  if (mem !== undefined) {
    const { values, kb } = parseKeyValues(mem);
    for (const [key, value] of values) {
      meminfo(kb.has(key) ? value * 1024 : value, { item: MEMINFO_ITEMS[key] ?? snakeCase(key) });
    }
  }

  const mounts = await readText(join(proc, "self/mounts"), problems);
  if (mounts !== undefined) {
    // A mount point mounted over keeps only its top mount, the one statfs sees.
    const top = new Map(parseMounts(mounts).map((m) => [m.mountPoint, m]));
    for (const { mountPoint, device, fstype } of top.values()) {
      if (PSEUDO_FS.has(fstype)) continue;
      const s = await statfsWithin(mountPoint, STATFS_TIMEOUT_MS).catch((err: unknown) => {
        problems.push(`statfs ${mountPoint}: ${(err as Error).message}`);
        return undefined;
      });
      if (!s || s.blocks === 0) continue;
      const labels = (item: string) => ({ mount: mountPoint, device, item });
      fsBytes(s.blocks * s.bsize, labels("total"));
      fsBytes(s.bfree * s.bsize, labels("free"));
      fsBytes(s.bavail * s.bsize, labels("avail"));
      fsBytes((s.blocks - s.bfree) * s.bsize, labels("used"));
      fsInodes(s.files, labels("total"));
      fsInodes(s.ffree, labels("free"));
      fsInodes(s.files - s.ffree, labels("used"));
    }
  }
}

async function statfsWithin(path: string, ms: number): Promise<StatsFs> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([statfs(path), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
