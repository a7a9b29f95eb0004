// Parsers for the procfs files GetMetrics reads. Each takes the file's text and returns plain
// numbers; the units are the kernel's unless a function says otherwise.

/** USER_HZ: the unit of the tick counts in /proc/stat and /proc/<pid>/stat (100 on every Linux ABI). */
export const TICKS_PER_SECOND = 100;

export interface ProcStat {
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
  numThreads: number;
  /** Virtual memory size in bytes. */
  vsize: number;
  /** Resident set in pages. */
  rss: number;
}

/** /proc/<pid>/stat. The command name is in parentheses and may hold spaces, so fields count from the last ")". */
export function parseProcStat(text: string): ProcStat {
  const rest = text
    .slice(text.lastIndexOf(")") + 2)
    .trim()
    .split(/\s+/)
    .map(Number);
  // rest[0] is field 3 (state) in proc(5)'s numbering.
  const field = (n: number) => rest[n - 3] ?? 0;
  return {
    utime: field(14),
    stime: field(15),
    cutime: field(16),
    cstime: field(17),
    numThreads: field(20),
    vsize: field(23),
    rss: field(24),
  };
}

/**
 * "Key: value [kB]" files (/proc/<pid>/status, /proc/meminfo, /proc/<pid>/io). Values keep the
 * file's unit; `kb` lists the keys that carried a "kB" suffix. Non-numeric values are skipped.
 */
export function parseKeyValues(text: string): { values: Map<string, number>; kb: Set<string> } {
  const values = new Map<string, number>();
  const kb = new Set<string>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim();
    const [number, unit] = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    const value = Number(number);
    if (number === undefined || number === "" || !Number.isFinite(value)) continue;
    values.set(key, value);
    if (unit === "kB") kb.add(key);
  }
  return { values, kb };
}

export interface LoadAvg {
  load1: number;
  load5: number;
  load15: number;
  /** Runnable scheduling entities. */
  running: number;
  /** All scheduling entities (threads). */
  total: number;
}

/** /proc/loadavg: "0.20 0.18 0.12 1/80 11206". */
export function parseLoadAvg(text: string): LoadAvg {
  const [l1, l5, l15, tasks = "0/0"] = text.trim().split(/\s+/);
  const [running, total] = tasks.split("/");
  return {
    load1: Number(l1),
    load5: Number(l5),
    load15: Number(l15),
    running: Number(running),
    total: Number(total),
  };
}

export const CPU_TIME_ITEMS = [
  "user",
  "nice",
  "system",
  "idle",
  "iowait",
  "irq",
  "softirq",
  "steal",
  "guest",
  "guest_nice",
] as const;

/** /proc/stat "cpu" lines as { cpu: "total" | "0" | "1"…, ticks per CPU_TIME_ITEMS }. */
export function parseCpuTimes(text: string): { cpu: string; ticks: number[] }[] {
  const result: { cpu: string; ticks: number[] }[] = [];
  for (const line of text.split("\n")) {
    const match = /^cpu(\d*)\s+(.*)$/.exec(line);
    if (!match) continue;
    const ticks = (match[2] ?? "").trim().split(/\s+/).map(Number);
    result.push({ cpu: match[1] === "" ? "total" : (match[1] as string), ticks });
  }
  return result;
}

/** "name value" lines (/proc/vmstat). */
export function parseNameValues(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [name, value] = line.trim().split(/\s+/);
    if (name && value !== undefined && Number.isFinite(Number(value))) values.set(name, Number(value));
  }
  return values;
}

export const NETDEV_ITEMS = [
  "recv_bytes",
  "recv_packets",
  "recv_errs",
  "recv_drop",
  "recv_fifo",
  "recv_frame",
  "recv_compressed",
  "recv_multicast",
  "sent_bytes",
  "sent_packets",
  "sent_errs",
  "sent_drop",
  "sent_fifo",
  "sent_colls",
  "sent_carrier",
  "sent_compressed",
] as const;

/** /proc/net/dev: two header lines, then "  eth0: 16 counters". */
export function parseNetDev(text: string): { name: string; counters: number[] }[] {
  const result: { name: string; counters: number[] }[] = [];
  for (const line of text.split("\n").slice(2)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const counters = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    result.push({ name: line.slice(0, colon).trim(), counters });
  }
  return result;
}

export const DISKSTAT_ITEMS = [
  "reads",
  "merged",
  "sectors_read",
  "time_reading",
  "writes",
  "writes_merged",
  "sectors_written",
  "time_writing",
  "in_progress",
  "time_in_progress",
  "weighted_time_in_progress",
  "discards",
  "discards_merged",
  "sectors_discarded",
  "time_discarding",
  "flushes",
  "time_flushing",
] as const;

/** /proc/diskstats: "major minor name" then 11 (old kernels), 15 (4.18+) or 17 (5.5+) counters. */
export function parseDiskStats(text: string): { name: string; counters: number[] }[] {
  const result: { name: string; counters: number[] }[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 14) continue;
    result.push({ name: fields[2] as string, counters: fields.slice(3).map(Number) });
  }
  return result;
}

export interface MountEntry {
  device: string;
  mountPoint: string;
  fstype: string;
}

/** /proc/self/mounts; spaces and such in paths are octal escapes ("\040"). */
export function parseMounts(text: string): MountEntry[] {
  const decode = (s: string) =>
    s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
  const result: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const [device, mountPoint, fstype] = line.split(" ");
    if (!device || !mountPoint || !fstype) continue;
    result.push({ device: decode(device), mountPoint: decode(mountPoint), fstype });
  }
  return result;
}
