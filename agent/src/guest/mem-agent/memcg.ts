// One round of memcg reclaim. Upstream's mem-agent ages and evicts pages through the kernel's
// multi-gen LRU; this one asks the kernel to reclaim each container cgroup's cold memory instead
// (cgroup v2 memory.reclaim): the inactive file cache, plus inactive anonymous memory when swap is
// allowed. On cgroup v1, which has no memory.reclaim, it only applies the swappiness setting.
import type { Dirent } from "node:fs";
import { access, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeAttribute } from "../sysfs.js";
import type { MemcgConfig } from "./config.js";
import { PsiWindow } from "./psi.js";

export interface CgroupOutcome {
  /** Relative to the cgroup root. */
  cgroup: string;
  action: "reclaimed" | "swappiness" | "skipped" | "failed";
  bytes?: number;
  detail?: string;
}

export interface MemcgRoundReport {
  /** Why the whole round did nothing, if it did nothing. */
  skipped?: string;
  cgroups: CgroupOutcome[];
}

export class MemcgReclaimer {
  private readonly system: PsiWindow;
  private readonly cgroupPsi = new Map<string, PsiWindow>();
  /** memory.reclaim's "swappiness=" argument is recent (Linux 6.12); remember a refusal. */
  private swappinessArgument = true;

  constructor(
    private readonly cgroupRoot: string,
    systemPsiPath: string,
  ) {
    this.system = new PsiWindow(systemPsiPath);
  }

  /** Takes the first pressure reading, so the first round has a period to judge. */
  async start(): Promise<void> {
    await this.system.start();
  }

  async round(config: MemcgConfig): Promise<MemcgRoundReport> {
    const pressure = await this.system.percent();
    if (pressure !== undefined && pressure > config.periodPsiPercentLimit) {
      return {
        skipped: `memory pressure ${pressure.toFixed(1)}% over the last period exceeds period_psi_percent_limit ${config.periodPsiPercentLimit}%`,
        cgroups: [],
      };
    }
    const unified = await exists(join(this.cgroupRoot, "cgroup.controllers"));
    if (!unified) return { cgroups: await this.applySwappinessV1(config) };
    const outcomes: CgroupOutcome[] = [];
    for (const cgroup of await leafCgroups(this.cgroupRoot)) {
      outcomes.push(await this.reclaim(cgroup, config));
    }
    return { cgroups: outcomes };
  }

  private async reclaim(cgroup: string, config: MemcgConfig): Promise<CgroupOutcome> {
    const dir = join(this.cgroupRoot, cgroup);
    let window = this.cgroupPsi.get(cgroup);
    if (!window) {
      window = new PsiWindow(join(dir, "memory.pressure"));
      this.cgroupPsi.set(cgroup, window);
    }
    const pressure = await window.percent();
    if (pressure !== undefined && pressure > config.evictionPsiPercentLimit) {
      return {
        cgroup,
        action: "skipped",
        detail: `pressure ${pressure.toFixed(1)}% exceeds eviction_psi_percent_limit ${config.evictionPsiPercentLimit}%`,
      };
    }
    let stat: Map<string, number>;
    try {
      stat = parseMemoryStat(await readFile(join(dir, "memory.stat"), "utf8"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        return { cgroup, action: "skipped", detail: "the memory controller is not enabled here" };
      }
      return { cgroup, action: "failed", detail: (err as Error).message };
    }
    const bytes = (stat.get("inactive_file") ?? 0) + (config.swap ? (stat.get("inactive_anon") ?? 0) : 0);
    if (bytes < 4096) return { cgroup, action: "skipped", detail: "nothing cold to reclaim" };
    const swappiness = config.swap ? config.swappinessMax : 0;
    try {
      await this.writeReclaim(join(dir, "memory.reclaim"), bytes, swappiness);
      return { cgroup, action: "reclaimed", bytes };
    } catch (err) {
      // EAGAIN: the kernel reclaimed less than asked, which is expected for cold-page estimates.
      if ((err as NodeJS.ErrnoException).code === "EAGAIN") {
        return { cgroup, action: "reclaimed", bytes, detail: "partially" };
      }
      return { cgroup, action: "failed", detail: (err as Error).message };
    }
  }

  private async writeReclaim(path: string, bytes: number, swappiness: number): Promise<void> {
    if (this.swappinessArgument) {
      try {
        await writeAttribute(path, `${bytes} swappiness=${swappiness}`);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EINVAL") throw err;
        this.swappinessArgument = false;
      }
    }
    await writeAttribute(path, String(bytes));
  }

  private async applySwappinessV1(config: MemcgConfig): Promise<CgroupOutcome[]> {
    const root = join(this.cgroupRoot, "memory");
    const value = config.swap ? config.swappinessMax : 0;
    const outcomes: CgroupOutcome[] = [];
    for (const cgroup of await descendants(root)) {
      try {
        await writeAttribute(join(root, cgroup, "memory.swappiness"), String(value));
        outcomes.push({ cgroup, action: "swappiness", detail: String(value) });
      } catch (err) {
        outcomes.push({ cgroup, action: "failed", detail: (err as Error).message });
      }
    }
    return outcomes;
  }
}

export function parseMemoryStat(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [key, value] = line.split(" ");
    if (key && value !== undefined) values.set(key, Number(value));
  }
  return values;
}

/** Every cgroup below `root` (not root itself), as paths relative to it. */
async function descendants(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (rel: string) => {
    let entries: Dirent[];
    try {
      entries = await readdir(join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
      found.push(child);
      await walk(child);
    }
  };
  await walk("");
  return found;
}

/** cgroups with no child cgroups: where the containers' processes are. */
async function leafCgroups(root: string): Promise<string[]> {
  const all = await descendants(root);
  return all.filter((cgroup) => !all.some((other) => other.startsWith(`${cgroup}/`)));
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
