// virtio-blk on PCI: source is a PCI path ("02/00") to wait for, or a /dev node already there.
// driver_options "create_filesystem" formats a blank disk first (see block-device.ts).

import { mountBlockDevice } from "../block-device.js";
import type { StorageContext, StorageResult, StorageSpec } from "../handler.js";

export const driverTypes = ["blk"] as const;

export async function add(storage: StorageSpec, ctx: StorageContext): Promise<StorageResult> {
  const device = storage.source.startsWith("/dev")
    ? storage.source
    : (await ctx.devices.virtioBlkPci(storage.source, ctx.signal)).path;
  return mountBlockDevice(storage, ctx, device);
}
