// NVDIMM / virtio-pmem: the runtime sends the /dev/pmem<N> name; the kernel registers it on the
// ACPI NFIT or virtio-pmem bus.
import type { DeviceContext, DeviceSpec } from "../context.js";
import type { BlockDevice } from "../sysfs.js";
import { findNamedBlock } from "./mmioblk.js";

export const deviceTypes = ["nvdimm"] as const;

export async function resolve(device: DeviceSpec, ctx: DeviceContext): Promise<BlockDevice> {
  return findNamedBlock(ctx, device.vmPath, "persistent-memory device");
}
