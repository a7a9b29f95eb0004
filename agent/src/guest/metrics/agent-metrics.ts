// kata_agent_*: the agent process itself, from /proc/self (upstream's families and items).
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Exposition } from "./exposition.js";
import { parseKeyValues, parseProcStat, TICKS_PER_SECOND } from "./procfs.js";
import { readText as read } from "./read.js";

/** /proc/<pid>/status keys upstream reports, by item name (values in kB except the switch counts). */
const STATUS_ITEMS: Record<string, string> = {
  vmpeak: "VmPeak",
  vmsize: "VmSize",
  vmlck: "VmLck",
  vmpin: "VmPin",
  vmhwm: "VmHWM",
  vmrss: "VmRSS",
  rssanon: "RssAnon",
  rssfile: "RssFile",
  rssshmem: "RssShmem",
  vmdata: "VmData",
  vmstk: "VmStk",
  vmexe: "VmExe",
  vmlib: "VmLib",
  vmpte: "VmPTE",
  vmswap: "VmSwap",
  hugetlbpages: "HugetlbPages",
  voluntary_ctxt_switches: "voluntary_ctxt_switches",
  nonvoluntary_ctxt_switches: "nonvoluntary_ctxt_switches",
};

const IO_ITEMS = ["rchar", "wchar", "syscr", "syscw", "read_bytes", "write_bytes", "cancelled_write_bytes"];

/**
 * Adds the agent process families. `self` is the process's procfs directory ("/proc/self").
 * A file that cannot be read leaves its families out and is reported in `problems`.
 */
export async function addAgentMetrics(out: Exposition, self: string, problems: string[]): Promise<void> {
  const threads = out.family("kata_agent_threads", "gauge", "Agent process threads.");
  const totalTime = out.family(
    "kata_agent_total_time",
    "gauge",
    "Agent process total CPU time (user + system) in seconds.",
  );
  const totalVm = out.family(
    "kata_agent_total_vm",
    "gauge",
    "Agent process total virtual memory size in bytes.",
  );
  const totalRss = out.family(
    "kata_agent_total_rss",
    "gauge",
    "Agent process total resident set size in bytes.",
  );
  const procStatus = out.family(
    "kata_agent_proc_status",
    "gauge",
    "Agent process status from /proc/self/status (memory items in kB, as the kernel reports them).",
  );
  const ioStat = out.family("kata_agent_io_stat", "gauge", "Agent process IO statistics from /proc/self/io.");
  const procStat = out.family(
    "kata_agent_proc_stat",
    "gauge",
    "Agent process CPU times from /proc/self/stat, in clock ticks (USER_HZ = 100).",
  );
  const openFds = out.family(
    "kata_agent_open_fds",
    "gauge",
    "File descriptors the agent process holds open.",
  );

  const stat = await read(join(self, "stat"), problems);
  if (stat !== undefined) {
    const s = parseProcStat(stat);
    threads(s.numThreads);
    totalTime((s.utime + s.stime) / TICKS_PER_SECOND);
    totalVm(s.vsize);
    for (const [item, value] of Object.entries({
      utime: s.utime,
      stime: s.stime,
      cutime: s.cutime,
      cstime: s.cstime,
    })) {
      procStat(value, { item });
    }
  }
  const status = await read(join(self, "status"), problems);
  if (status !== undefined) {
    const { values } = parseKeyValues(status);
    // VmRSS rather than stat's page count: no page-size guess needed, and it is what tools show.
    const rssKb = values.get("VmRSS");
    if (rssKb !== undefined) totalRss(rssKb * 1024);
    for (const [item, key] of Object.entries(STATUS_ITEMS)) {
      const value = values.get(key);
      if (value !== undefined) procStatus(value, { item });
    }
  }
  const io = await read(join(self, "io"), problems);
  if (io !== undefined) {
    const { values } = parseKeyValues(io);
    for (const item of IO_ITEMS) {
      const value = values.get(item);
      if (value !== undefined) ioStat(value, { item });
    }
  }
  try {
    openFds((await readdir(join(self, "fd"))).length);
  } catch (err) {
    problems.push(`${join(self, "fd")}: ${(err as Error).message}`);
  }
}
