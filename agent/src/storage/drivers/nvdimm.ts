// NVDIMM / virtio-pmem: source is /dev/pmem<N>; the runtime passes "dax" for direct access.

import { mountBlockDevice } from "../block-device.js";
import type { StorageContext, StorageResult, StorageSpec } from "../handler.js";

export const driverTypes = ["nvdimm"] as const;

export async function add(storage: StorageSpec, ctx: StorageContext): Promise<StorageResult> {
  const device = (await ctx.devices.namedBlock(storage.source, "persistent-memory device", ctx.signal)).path;
  return mountBlockDevice(storage, ctx, device);
}
