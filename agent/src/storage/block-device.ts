// What the block drivers (blk, mmioblk, scsi, nvdimm) share once they know the device node:
// check it is a block device, format it if asked to and blank, mount it; or, with
// encryption_key=ephemeral, encrypt it under a new key first and format and mount the mapping.
import { stat } from "node:fs/promises";
import { InvalidInputError, NotFoundError, UnsupportedError } from "../core/domain-error.js";
import { isMkfsFstype, MKFS_FSTYPES, type MkfsFstype, mkfs } from "../tools/mkfs.js";
import { ensureOk } from "../tools/tool.js";
import { message, mountStorage } from "./common.js";
import { openEphemeralEncryption, wantsEphemeralEncryption } from "./encryption.js";
import { detectFilesystem } from "./fs-signature.js";
import type { StorageContext, StorageResult, StorageSpec } from "./handler.js";

/** driver_options entry asking for a filesystem on a blank device ("create_filesystem[=true]"). */
export function wantsFilesystem(driverOptions: readonly string[]): boolean {
  return driverOptions.some((o) => o === "create_filesystem" || o === "create_filesystem=true");
}

export async function mountBlockDevice(
  storage: StorageSpec,
  ctx: StorageContext,
  device: string,
): Promise<StorageResult> {
  await checkBlockDevice(storage.driver, device);
  const createsFilesystem = wantsFilesystem(storage.driverOptions);
  if (wantsEphemeralEncryption(storage, createsFilesystem)) return mountEncrypted(storage, ctx, device);
  if (createsFilesystem) await ensureFilesystem(storage, ctx, device);
  return mountStorage(storage, ctx, { source: device });
}

/** LUKS2 under a new key, a new filesystem on the mapping, mounted; released: unmount, close. */
async function mountEncrypted(
  storage: StorageSpec,
  ctx: StorageContext,
  device: string,
): Promise<StorageResult> {
  const fstype = mkfsFstype(storage);
  const encrypted = await openEphemeralEncryption(storage, device, ctx);
  try {
    await format(storage, ctx, encrypted.path, fstype);
    const mounted = await mountStorage(storage, ctx, { source: encrypted.path });
    return {
      ...mounted,
      cleanup: async () => {
        await mounted.cleanup();
        await encrypted.close();
      },
    };
  } catch (err) {
    await encrypted.close().catch((e: unknown) =>
      ctx.log.warn("closing the encrypted volume after a failure failed", {
        mapping: encrypted.name,
        error: e,
      }),
    );
    throw err;
  }
}

export async function checkBlockDevice(driver: string, device: string): Promise<void> {
  let isBlock: boolean;
  try {
    isBlock = (await stat(device)).isBlockDevice();
  } catch (err) {
    throw new NotFoundError(
      "device",
      `storage driver "${driver}": source ${device} is not there: ${message(err)}`,
      {
        cause: err,
      },
    );
  }
  if (!isBlock) {
    throw new InvalidInputError(`storage driver "${driver}": source ${device} is not a block device`);
  }
}

async function ensureFilesystem(storage: StorageSpec, ctx: StorageContext, device: string): Promise<void> {
  const existing = await detectFilesystem(device);
  if (existing) {
    ctx.log.info("device already has a filesystem; not formatting it", { device, found: existing });
    return;
  }
  await format(storage, ctx, device, mkfsFstype(storage));
}

/** The storage's fstype (ext4 when unset), if mkfs can make it. */
function mkfsFstype(storage: StorageSpec): MkfsFstype {
  const fstype = storage.fstype || "ext4";
  if (!isMkfsFstype(fstype)) {
    throw new UnsupportedError(
      `storage driver "${storage.driver}": create_filesystem supports ${MKFS_FSTYPES.join(", ")}, not ${fstype}`,
    );
  }
  return fstype;
}

async function format(
  storage: StorageSpec,
  ctx: StorageContext,
  device: string,
  fstype: MkfsFstype,
): Promise<void> {
  ctx.log.info("formatting blank device", { device, fstype });
  ensureOk(
    await mkfs(fstype, device, { signal: ctx.signal }),
    `storage driver "${storage.driver}": formatting ${device} failed`,
  );
}
