// What most drivers share (upstream's common_storage_handler): create the mount point, split the
// options into flags and data, mount, apply fsGroup; and the matching cleanup.
import { mkdir, open, rmdir, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { InvalidInputError, RuntimeFailure } from "../core/domain-error.js";
import { applyFsGroup } from "./fs-group.js";
import type { StorageContext, StorageResult, StorageSpec } from "./handler.js";
import { MS, parseMountOptions } from "./mount-options.js";
import { MNT_DETACH, type Mounter, mountWithFollowUps, UMOUNT_NOFOLLOW } from "./mounter.js";

export interface MountOverrides {
  /** The resolved source (e.g. /dev/vda for a PCI path). */
  source?: string;
  fstype?: string;
  options?: string[];
}

/** Mounts `storage` (with `overrides`), applies its fsGroup, and returns how to undo it. */
export async function mountStorage(
  storage: StorageSpec,
  ctx: StorageContext,
  overrides: MountOverrides = {},
): Promise<StorageResult> {
  const source = overrides.source ?? storage.source;
  const fstype = overrides.fstype ?? storage.fstype;
  const options = overrides.options ?? storage.options;
  const { flags, propagation, data } = parseMountOptions(options);
  const target = storage.mountPoint;
  checkMountPoint(storage);
  await createMountPoint(source, target, flags);
  ctx.log.info("mounting storage", { driver: storage.driver, source, target, fstype, flags, data });
  try {
    await mountWithFollowUps(ctx.mounter, { source, target, fstype, flags, data }, propagation);
  } catch (err) {
    throw mountFailure(storage.driver, source, fstype, target, err);
  }
  if (storage.fsGroup) {
    try {
      await applyFsGroup(target, storage.fsGroup, (flags & MS.RDONLY) !== 0, ctx.log);
    } catch (err) {
      await unmountQuietly(ctx.mounter, target);
      throw new RuntimeFailure(
        `storage driver "${storage.driver}": applying fsGroup ${storage.fsGroup.groupId} to ${target} failed: ${message(err)}`,
        { cause: err },
      );
    }
  }
  return { path: target, cleanup: () => unmountStorage(ctx.mounter, target) };
}

export function checkMountPoint(storage: StorageSpec): void {
  if (!storage.mountPoint.startsWith("/")) {
    throw new InvalidInputError(
      `storage driver "${storage.driver}": mount_point ${JSON.stringify(storage.mountPoint)} must be an absolute path`,
    );
  }
}

/** A directory, or an empty file when bind-mounting a file (as upstream's create_mount_destination). */
export async function createMountPoint(source: string, target: string, flags: number): Promise<void> {
  let sourceIsFile = false;
  if (flags & MS.BIND) {
    try {
      sourceIsFile = !(await stat(source)).isDirectory();
    } catch {
      // the mount itself will report a missing source
    }
  }
  try {
    if (sourceIsFile) {
      await mkdir(dirname(target), { recursive: true });
      await (await open(target, "a")).close();
    } else {
      await mkdir(target, { recursive: true });
    }
  } catch (err) {
    throw new RuntimeFailure(`cannot create mount point ${target}: ${message(err)}`, {
      cause: err,
    });
  }
}

/** Unmounts (lazily if busy) and removes the mount point directory if it is empty. */
export async function unmountStorage(mounter: Mounter, target: string): Promise<void> {
  if (await mounter.isMountPoint(target)) {
    try {
      await mounter.unmount(target, UMOUNT_NOFOLLOW);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EBUSY") throw err;
      await mounter.unmount(target, MNT_DETACH | UMOUNT_NOFOLLOW);
    }
  }
  try {
    await rmdir(target);
  } catch {
    // not empty, a file, or already gone: leave it
  }
}

async function unmountQuietly(mounter: Mounter, target: string): Promise<void> {
  try {
    await unmountStorage(mounter, target);
  } catch {
    // the original error matters more
  }
}

/** "storage driver "blk": cannot mount /dev/vda (ext4) on /x: mount: EINVAL (Invalid argument)" plus a hint. */
export function mountFailure(
  driver: string,
  source: string,
  fstype: string,
  target: string,
  err: unknown,
): RuntimeFailure {
  const code = (err as NodeJS.ErrnoException).code;
  const hint =
    code === "ENODEV"
      ? `; the guest kernel has no ${fstype} filesystem`
      : code === "EINVAL" || code === "EUCLEAN"
        ? "; wrong fstype, bad option, or no valid filesystem on the source?"
        : code === "ENOENT" || code === "ENOTBLK"
          ? "; the source does not exist or is not a block device"
          : "";
  return new RuntimeFailure(
    `storage driver "${driver}": cannot mount ${source} (${fstype || "no fstype"}) on ${target}: ${message(err)}${hint}`,
    { cause: err },
  );
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
