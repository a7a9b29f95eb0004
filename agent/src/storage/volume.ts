// GetVolumeStats and ResizeVolume. Stats come from statfs(2) and use df's
// arithmetic (used = blocks - free, available = blocks available to unprivileged users); upstream
// reports used = total - available, which counts ext4's reserved blocks as used. ResizeVolume is
// UNIMPLEMENTED upstream; here it grows ext2/3/4 (resize2fs, online), XFS (xfs_growfs) and tmpfs
// (remount with a new size) after the host has grown the disk.
import { readFile, realpath, stat, statfs, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import {
  InvalidInputError,
  NotFoundError,
  PreconditionError,
  RuntimeFailure,
  UnsupportedError,
} from "../core/domain-error.js";
import type { Logger } from "../log.js";
import { resize2fs } from "../tools/resize2fs.js";
import { ensureOk } from "../tools/tool.js";
import { xfsGrowfs } from "../tools/xfs-growfs.js";
import { message } from "./common.js";
import { flagsOfMountinfo, MS } from "./mount-options.js";
import type { Mounter } from "./mounter.js";
import { type MountEntry, mountAt } from "./mountinfo.js";

export interface Usage {
  total: bigint;
  available: bigint;
  used: bigint;
}

export interface VolumeStats {
  bytes: Usage;
  inodes: Usage;
}

export async function volumeStats(path: string): Promise<VolumeStats> {
  await mustExist(path, "GetVolumeStats");
  const fs = await statfs(path, { bigint: true });
  return {
    bytes: {
      total: fs.blocks * fs.bsize,
      available: fs.bavail * fs.bsize,
      used: (fs.blocks - fs.bfree) * fs.bsize,
    },
    inodes: { total: fs.files, available: fs.ffree, used: fs.files - fs.ffree },
  };
}

export interface ResizeContext {
  mounter: Mounter;
  sysfsRoot: string;
  log: Logger;
  signal?: AbortSignal | undefined;
}

/** Grows the filesystem mounted at `path` to `bytes` (0: to the whole device). */
export async function resizeVolume(path: string, bytes: bigint, ctx: ResizeContext): Promise<void> {
  await mustExist(path, "ResizeVolume");
  const mountPoint = await realpath(path);
  const mount = await mountAt(mountPoint);
  if (!mount) {
    throw new PreconditionError(`ResizeVolume: ${path} is not a mount point; pass the volume's mount point`);
  }
  const current = await statfs(mountPoint, { bigint: true });
  const currentBytes = current.blocks * current.bsize;
  if (bytes !== 0n && bytes < currentBytes) {
    throw new InvalidInputError(
      `ResizeVolume: ${path} (${mount.fstype}) holds ${currentBytes} bytes; shrinking to ${bytes} is not supported`,
    );
  }
  ctx.log.info("resizing volume", {
    path,
    fstype: mount.fstype,
    source: mount.source,
    from: currentBytes,
    to: bytes,
  });
  switch (mount.fstype) {
    case "ext2":
    case "ext3":
    case "ext4":
      return growExt(mount, bytes, ctx);
    case "xfs":
      return growXfs(mount, bytes, current.bsize, ctx);
    case "tmpfs":
      return resizeTmpfs(mount, bytes, ctx);
    default:
      throw new UnsupportedError(
        `ResizeVolume: ${path} is ${mount.fstype}; this agent grows ext2/3/4, xfs and tmpfs volumes`,
      );
  }
}

/** Online ext4 resizing (EXT4_IOC_RESIZE_FS) is reserved to CAP_SYS_RESOURCE by the kernel. */
const CAP_SYS_RESOURCE = 24;

async function growExt(mount: MountEntry, bytes: bigint, ctx: ResizeContext): Promise<void> {
  await checkDeviceSize(mount, bytes, ctx);
  if (!(await hasCapability(CAP_SYS_RESOURCE))) {
    throw new PreconditionError(
      `ResizeVolume: growing the mounted ${mount.fstype} filesystem on ${mount.source} needs CAP_SYS_RESOURCE, ` +
        "which the agent does not have; run it with that capability",
    );
  }
  const result = await resize2fs(mount.source, bytes === 0n ? undefined : bytes, { signal: ctx.signal });
  ensureOk(result, "ResizeVolume");
}

async function growXfs(
  mount: MountEntry,
  bytes: bigint,
  blockSize: bigint,
  ctx: ResizeContext,
): Promise<void> {
  await checkDeviceSize(mount, bytes, ctx);
  const result = await xfsGrowfs(mount.mountPoint, bytes === 0n ? undefined : bytes / blockSize, {
    signal: ctx.signal,
  });
  ensureOk(result, "ResizeVolume");
}

/** tmpfs: remount with size=, keeping the mount's flags (a remount resets those not passed). */
async function resizeTmpfs(mount: MountEntry, bytes: bigint, ctx: ResizeContext): Promise<void> {
  if (bytes === 0n) throw new InvalidInputError("ResizeVolume: a tmpfs needs an explicit size");
  const flags = MS.REMOUNT | flagsOfMountinfo(mount.options);
  try {
    await ctx.mounter.mount({
      source: mount.source,
      target: mount.mountPoint,
      fstype: "tmpfs",
      flags,
      data: `size=${bytes}`,
    });
  } catch (err) {
    throw new RuntimeFailure(
      `ResizeVolume: remounting ${mount.mountPoint} with size=${bytes}: ${message(err)}`,
      {
        cause: err,
      },
    );
  }
}

/** Refuses to grow past the device; rescans a SCSI disk first so that it reports its new size. */
async function checkDeviceSize(mount: MountEntry, bytes: bigint, ctx: ResizeContext): Promise<void> {
  let name: string;
  try {
    name = basename(await realpath(mount.source));
  } catch (err) {
    throw new PreconditionError(
      `ResizeVolume: device ${mount.source} of ${mount.mountPoint}: ${message(err)}`,
    );
  }
  const block = join(ctx.sysfsRoot, "class", "block", name);
  try {
    await writeFile(join(block, "device", "rescan"), "1");
    ctx.log.debug("rescanned device before resizing", { device: name });
  } catch {
    // not a SCSI disk (virtio-blk and loop devices report new sizes themselves)
  }
  if (bytes === 0n) return;
  let deviceBytes: bigint;
  try {
    deviceBytes = BigInt((await readFile(join(block, "size"), "utf8")).trim()) * 512n;
  } catch (err) {
    ctx.log.warn("cannot read device size; letting the tool decide", { device: name, error: err });
    return;
  }
  if (bytes > deviceBytes) {
    throw new PreconditionError(
      `ResizeVolume: ${mount.source} is ${deviceBytes} bytes, smaller than the requested ${bytes}; grow the disk on the host first`,
    );
  }
}

async function mustExist(path: string, rpc: string): Promise<void> {
  if (!path.startsWith("/"))
    throw new InvalidInputError(`${rpc}: ${JSON.stringify(path)} is not an absolute path`);
  try {
    await stat(path);
  } catch (err) {
    throw (err as NodeJS.ErrnoException).code === "ENOENT"
      ? new NotFoundError("path", `${rpc}: ${path}: ${message(err)}`, { cause: err })
      : new RuntimeFailure(`${rpc}: ${path}: ${message(err)}`, { cause: err });
  }
}

/** Whether this process has `cap` in its effective set (/proc/self/status CapEff). */
export async function hasCapability(cap: number): Promise<boolean> {
  const status = await readFile("/proc/self/status", "utf8");
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  return hex !== undefined && ((BigInt(`0x${hex}`) >> BigInt(cap)) & 1n) === 1n;
}
