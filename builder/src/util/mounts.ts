// Mount points beneath a directory, read from /proc/self/mountinfo. A bootstrap tool killed
// half-way (mmdebstrap in root mode binds /dev, /proc and /sys into its target) can leave mounts
// inside a staging directory; deleting that directory recursively would then delete through
// them into the host, so they are found (here) and detached (workspace/atomic.ts) first.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

/** Mount points at or below `dir`, deepest first. */
export function mountsBeneath(dir: string, mountinfo?: string): string[] {
  const base = resolve(dir);
  let text = mountinfo;
  if (text === undefined) {
    try {
      text = readFileSync("/proc/self/mountinfo", "utf8");
    } catch {
      return [];
    }
  }
  const found: string[] = [];
  for (const line of text.split("\n")) {
    const field = line.split(" ")[4];
    if (!field) continue;
    // mountinfo escapes space, tab, newline and backslash as octal.
    const point = field.replace(/\\([0-7]{3})/g, (_, o: string) =>
      String.fromCharCode(Number.parseInt(o, 8)),
    );
    if (point === base || point.startsWith(`${base}/`)) found.push(point);
  }
  return found.sort((a, b) => b.length - a.length);
}
