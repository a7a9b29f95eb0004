// virtio-blk on virtio-mmio: source is the /dev name the disk gets; wait for it if not there yet.

import { mountBlockDevice } from "../block-device.js";
import type { StorageContext, StorageResult, StorageSpec } from "../handler.js";

export const driverTypes = ["mmioblk"] as const;

export async function add(storage: StorageSpec, ctx: StorageContext): Promise<StorageResult> {
  const device = (await ctx.devices.namedBlock(storage.source, "virtio-mmio disk", ctx.signal)).path;
  return mountBlockDevice(storage, ctx, device);
}
