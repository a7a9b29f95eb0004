// Pressure stall information: the share of wall time in which some task waited for memory,
// measured between two readings of a PSI file (/proc/pressure/memory, <cgroup>/memory.pressure).
import { readFile } from "node:fs/promises";

/** The cumulative "some" stall time in microseconds, or undefined if the file is missing or has none. */
export async function readSomeTotalUs(path: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  const match = /^some .*\btotal=(\d+)/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** Stall percentage since the previous call (or since construction), from one PSI file. */
export class PsiWindow {
  private last: { totalUs: number; atMs: number } | undefined;

  constructor(
    readonly path: string,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Starts the window without reporting. */
  async start(): Promise<void> {
    await this.percent();
  }

  /**
   * Percent (0-100) of the time since the last call during which memory stalls held some task, or
   * undefined when PSI is unavailable or this is the first reading.
   */
  async percent(): Promise<number | undefined> {
    const totalUs = await readSomeTotalUs(this.path);
    const atMs = this.now();
    const previous = this.last;
    this.last = totalUs === undefined ? undefined : { totalUs, atMs };
    if (totalUs === undefined || previous === undefined || atMs <= previous.atMs) return undefined;
    const stalledMs = (totalUs - previous.totalUs) / 1000;
    return Math.min(100, Math.max(0, (stalledMs / (atMs - previous.atMs)) * 100));
  }
}
