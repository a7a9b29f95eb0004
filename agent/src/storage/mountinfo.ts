// /proc/self/mountinfo, parsed: which paths are mount points, of what, from where.
import { readFile } from "node:fs/promises";

export interface MountEntry {
  mountPoint: string;
  /** Per-mount options (rw,nosuid,nodev,...). */
  options: string;
  fstype: string;
  source: string;
  /** Per-superblock options (size=...,mode=...). */
  superOptions: string;
}

/** Undoes the kernel's octal escapes (\040 for space, \011, \012, \134). */
function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(" ");
    const right = line.slice(sep + 3).split(" ");
    if (left.length < 6 || right.length < 3) continue;
    entries.push({
      mountPoint: unescapeOctal(left[4]!),
      options: left[5]!,
      fstype: right[0]!,
      source: unescapeOctal(right[1]!),
      superOptions: right[2]!,
    });
  }
  return entries;
}

export async function readMountinfo(file = "/proc/self/mountinfo"): Promise<MountEntry[]> {
  return parseMountinfo(await readFile(file, "utf8"));
}

/** The topmost mount at exactly `path` (the one a lookup of `path` sees), if any. */
export async function mountAt(path: string): Promise<MountEntry | undefined> {
  return (await readMountinfo()).findLast((m) => m.mountPoint === path);
}

export async function isMountPoint(path: string): Promise<boolean> {
  return (await mountAt(path)) !== undefined;
}
