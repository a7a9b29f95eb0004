// Process helpers shared by bench sections: start a server and wait until it answers, read
// memory figures from /proc, take medians.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

export interface Memory {
  vmRssKb: number;
  rssAnonKb: number;
  rssFileKb: number;
}

export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { vmRssKb: kb("VmRSS"), rssAnonKb: kb("RssAnon"), rssFileKb: kb("RssFile") };
}

export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The node flags the guest image starts the agent with, read from the wrapper script in
 * rootfs/common, so the bench measures exactly what ships.
 */
export function shippedNodeFlags(): string[] {
  const wrapper = readFileSync(path.join(repoRoot, "rootfs/common/usr/bin/kata-agent"), "utf8");
  const exec = wrapper.split("\n").find((l) => /^\s*exec\s+\S*node\b/.test(l));
  if (!exec) throw new Error("rootfs/common/usr/bin/kata-agent has no 'exec node ...' line");
  return exec
    .trim()
    .split(/\s+/)
    .filter((w) => w.startsWith("--"));
}
