import { describe, expect, it } from "vitest";
import { snakeCase } from "../../../../../agent/src/guest/metrics/guest-metrics.js";
import {
  parseCpuTimes,
  parseDiskStats,
  parseKeyValues,
  parseLoadAvg,
  parseMounts,
  parseNetDev,
  parseProcStat,
} from "../../../../../agent/src/guest/metrics/procfs.js";

describe("procfs parsers", () => {
  it("reads /proc/<pid>/stat fields after a command name with spaces and parentheses", () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[0] = "S";
    const s = parseProcStat(`1234 (node (x) y) ${fields.join(" ")}`);
    expect(s).toEqual({ utime: 14, stime: 15, cutime: 16, cstime: 17, numThreads: 20, vsize: 23, rss: 24 });
  });

  it("reads key: value files and remembers which values were in kB", () => {
    const { values, kb } = parseKeyValues(
      "Name:\tnode\nVmRSS:\t  51200 kB\nThreads:\t11\nHugePages_Total:       0\n",
    );
    expect(values.get("VmRSS")).toBe(51200);
    expect(values.get("Threads")).toBe(11);
    expect(values.has("Name")).toBe(false);
    expect([...kb]).toEqual(["VmRSS"]);
  });

  it("reads loadavg, cpu lines, net/dev, diskstats and mounts", () => {
    expect(parseLoadAvg("0.50 0.25 0.10 3/180 4242\n")).toEqual({
      load1: 0.5,
      load5: 0.25,
      load15: 0.1,
      running: 3,
      total: 180,
    });
    const cpus = parseCpuTimes(
      "cpu  10 0 5 100 1 0 0 0 0 0\ncpu0 6 0 3 50 1 0 0 0 0 0\ncpu1 4 0 2 50 0 0 0 0 0 0\nintr 1\n",
    );
    expect(cpus.map((c) => c.cpu)).toEqual(["total", "0", "1"]);
    expect(cpus[0]?.ticks.slice(0, 4)).toEqual([10, 0, 5, 100]);
    const dev = parseNetDev(
      "Inter-|   Receive\n face |bytes\n    lo:    3773      39    0    0    0     0          0         0     3773      39    0    0    0     0       0          0\n",
    );
    expect(dev).toEqual([{ name: "lo", counters: [3773, 39, 0, 0, 0, 0, 0, 0, 3773, 39, 0, 0, 0, 0, 0, 0] }]);
    const disks = parseDiskStats(
      "   7       0 loop0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n 254 0 vda 1 2 3 4 5 6 7 8 9 10 11\n",
    );
    expect(disks.map((d) => [d.name, d.counters.length])).toEqual([
      ["loop0", 17],
      ["vda", 11],
    ]);
    expect(parseMounts("/dev/vda / ext4 rw 0 0\nshare /run/my\\040dir virtiofs rw 0 0\n")).toEqual([
      { device: "/dev/vda", mountPoint: "/", fstype: "ext4" },
      { device: "share", mountPoint: "/run/my dir", fstype: "virtiofs" },
    ]);
  });

  it("names meminfo keys newer than upstream's table in snake_case", () => {
    expect(
      ["FileHugePages", "SecPageTables", "Active(anon)", "Zswapped", "NFS_Unstable"].map(snakeCase),
    ).toEqual(["file_huge_pages", "sec_page_tables", "active_anon", "zswapped", "nfs_unstable"]);
  });
});
