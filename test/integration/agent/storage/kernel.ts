// Real kernel objects for the storage tests: loop devices over sparse files, and a check of what
// is mounted where. Everything made here is undone by cleanup().
import { execFileSync } from "node:child_process";
import { closeSync, openSync, readFileSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { native } from "../../../../agent/src/native/index.js";
import { parseMountinfo } from "../../../../agent/src/storage/mountinfo.js";

export class Kernel {
  private readonly loops: string[] = [];

  constructor(private readonly dir: string) {}

  /** A loop device over a sparse file of `mib` MiB, optionally formatted. */
  loop(name: string, mib: number, fstype?: "ext4" | "xfs"): { device: string; file: string } {
    const file = join(this.dir, `${name}.img`);
    closeSync(openSync(file, "w"));
    truncateSync(file, mib * 1024 * 1024);
    if (fstype === "ext4") execFileSync("mkfs.ext4", ["-q", "-F", file]);
    if (fstype === "xfs") execFileSync("mkfs.xfs", ["-q", "-f", file]);
    const device = execFileSync("losetup", ["--find", "--show", file], { encoding: "utf8" }).trim();
    this.loops.push(device);
    return { device, file };
  }

  /** Grows the file behind a loop device and tells the kernel (losetup -c). */
  grow(loop: { device: string; file: string }, mib: number): void {
    truncateSync(loop.file, mib * 1024 * 1024);
    execFileSync("losetup", ["-c", loop.device]);
  }

  /** Unmounts anything left below the test directory, then detaches the loop devices. */
  cleanup(): void {
    for (const m of mountsBelow(this.dir).reverse()) {
      try {
        native().umount(m.mountPoint, native().MNT_DETACH);
      } catch {
        // already gone
      }
    }
    for (const device of this.loops) {
      try {
        execFileSync("losetup", ["-d", device]);
      } catch {
        // already detached
      }
    }
  }
}

export function mounts() {
  return parseMountinfo(readFileSync("/proc/self/mountinfo", "utf8"));
}

export function mountAt(path: string) {
  return mounts().findLast((m) => m.mountPoint === path);
}

export function mountsBelow(dir: string) {
  return mounts().filter((m) => m.mountPoint === dir || m.mountPoint.startsWith(`${dir}/`));
}

/** `df -B1` (bytes) or `df -i` (inodes) numbers for `path`: [total, used, available]. */
export function df(path: string, what: "bytes" | "inodes"): bigint[] {
  const args =
    what === "bytes" ? ["-B1", "--output=size,used,avail", path] : ["--output=itotal,iused,iavail", path];
  const line = execFileSync("df", args, { encoding: "utf8" }).trim().split("\n")[1]!;
  return line.trim().split(/\s+/).map(BigInt);
}
