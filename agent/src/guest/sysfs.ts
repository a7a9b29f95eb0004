// Small readers for sysfs and procfs files: one value per file, or "0-3,5" CPU lists.
import { constants } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";

/** The file's text without the trailing newline, or undefined when it does not exist. */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, "utf8")).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** How many CPUs a kernel CPU list names ("0-3,5" is 5; "" is 0). */
export function countCpuList(list: string): number {
  let count = 0;
  for (const part of list.trim().split(",")) {
    if (part === "") continue;
    const [first, last = first] = part.split("-");
    const from = Number(first);
    const to = Number(last);
    if (!Number.isInteger(from) || !Number.isInteger(to) || to < from) {
      throw new Error(`malformed CPU list ${JSON.stringify(list)}`);
    }
    count += to - from + 1;
  }
  return count;
}

/** Entries of `dir` named `<prefix><number>` (cpu0, memory12), in numeric order; [] if no dir. */
export async function numberedEntries(dir: string, prefix: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const pattern = new RegExp(`^${prefix}(\\d+)$`);
  return names
    .map((name) => ({ name, n: pattern.exec(name)?.[1] }))
    .filter((e): e is { name: string; n: string } => e.n !== undefined)
    .sort((a, b) => Number(a.n) - Number(b.n))
    .map((e) => e.name);
}

/**
 * Writes to a kernel attribute file that must already exist: never creates one (sysfs refuses
 * anyway; in a test tree a typo would otherwise pass), so a missing attribute fails with ENOENT.
 */
export async function writeAttribute(path: string, value: string): Promise<void> {
  await writeFile(path, value, { flag: constants.O_WRONLY | constants.O_TRUNC });
}
