// virtio-scsi: source is the SCSI address "<target>:<lun>"; scan the hosts and wait for the disk.

import { mountBlockDevice } from "../block-device.js";
import type { StorageContext, StorageResult, StorageSpec } from "../handler.js";

export const driverTypes = ["scsi"] as const;

export async function add(storage: StorageSpec, ctx: StorageContext): Promise<StorageResult> {
  const device = (await ctx.devices.scsiDisk(storage.source, ctx.signal)).path;
  return mountBlockDevice(storage, ctx, device);
}
