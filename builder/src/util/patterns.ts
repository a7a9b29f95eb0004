// Paths inside a root named by patterns, as rootfs/ data lists write them: relative to /, a '*'
// matching any run of characters within one path segment (never across a '/').
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { resolveInRoot } from "./in-root.js";

/** Whether `name` matches a pattern segment where `*` stands for any run of characters. */
export function matchSegment(pattern: string, name: string): boolean {
  if (!pattern.includes("*")) return pattern === name;
  const re = new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`, "s");
  return re.test(name);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The in-root paths a pattern names: `*` in a segment matches names in that directory (never
 * across a `/`), directories on the way are resolved inside the root, results are sorted.
 */
export async function expandPattern(root: string, pattern: string): Promise<string[]> {
  const segments = pattern.split("/").filter(Boolean);
  let current = [""];
  for (const segment of segments) {
    const next: string[] = [];
    for (const dir of current) {
      if (!segment.includes("*")) {
        next.push(`${dir}/${segment}`);
        continue;
      }
      const host = join(root, await resolveInRoot(root, dir || "/"));
      const names = await readdir(host).catch(() => [] as string[]);
      for (const name of names.sort()) if (matchSegment(segment, name)) next.push(`${dir}/${name}`);
    }
    current = next;
  }
  return current.filter((p) => p !== "");
}
