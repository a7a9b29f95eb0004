// Reading block devices out of sysfs. The sysfs and /dev roots are parameters so that tests can
// build a fake tree in a temporary directory.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";

export interface DeviceRoots {
  /** Normally "/sys". */
  sysfs: string;
  /** Normally "/dev". */
  dev: string;
}

/** A block device node the guest kernel created. */
export interface BlockDevice {
  /** "/dev/vda" (under the configured /dev root). */
  path: string;
  /** Kernel name, "vda" or "nvme0n1". */
  name: string;
  major: number;
  minor: number;
}

/** Reads MAJOR/MINOR/DEVNAME from a sysfs block directory's uevent; undefined while incomplete. */
export async function readBlockDir(roots: DeviceRoots, dir: string): Promise<BlockDevice | undefined> {
  const text = await readIfExists(join(dir, "uevent"));
  if (text === undefined) return undefined;
  const fields = new Map(
    text
      .split("\n")
      .map((line) => line.split("=", 2) as [string, string | undefined])
      .filter((kv): kv is [string, string] => kv[1] !== undefined),
  );
  const name = fields.get("DEVNAME");
  const major = Number(fields.get("MAJOR"));
  const minor = Number(fields.get("MINOR"));
  if (!name || !Number.isInteger(major) || !Number.isInteger(minor)) return undefined;
  const path = join(roots.dev, name);
  // devtmpfs creates the node when the device is registered; wait for it too.
  if (!(await exists(path))) return undefined;
  return { path, name, major, minor };
}

/** The block device `name` ("vdb", "pmem0") once sysfs and /dev both know it. */
export async function blockDeviceNamed(roots: DeviceRoots, name: string): Promise<BlockDevice | undefined> {
  return readBlockDir(roots, join(roots.sysfs, "class", "block", name));
}

/** Subdirectories of `dir` whose names match, sorted; [] if `dir` is absent. */
export async function listMatching(dir: string, pattern: RegExp): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((name) => pattern.test(name)).sort();
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
}

export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}
