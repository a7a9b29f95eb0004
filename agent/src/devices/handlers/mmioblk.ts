// virtio-blk on virtio-mmio (Firecracker and other machines without PCI): the runtime sends the
// /dev name the disk will get ("/dev/vdb"); wait for the kernel to register it.
import { basename } from "node:path";
import { InvalidInputError, RuntimeFailure } from "../../core/domain-error.js";
import type { DeviceContext, DeviceSpec } from "../context.js";
import { type BlockDevice, blockDeviceNamed } from "../sysfs.js";
import { waitFor } from "../wait.js";

export const deviceTypes = ["mmioblk"] as const;

export async function resolve(device: DeviceSpec, ctx: DeviceContext): Promise<BlockDevice> {
  return findNamedBlock(ctx, device.vmPath, "virtio-mmio disk");
}

/** Waits for the block device whose /dev path is `devPath` (sysfs class/block/<name> and the node). */
export async function findNamedBlock(
  ctx: DeviceContext,
  devPath: string,
  kind: string,
): Promise<BlockDevice> {
  if (!devPath.startsWith("/dev/") || devPath.length <= "/dev/".length) {
    throw new InvalidInputError(`${kind} path ${JSON.stringify(devPath)} must start with /dev/`);
  }
  const name = devPath.slice("/dev/".length);
  const dev = await waitFor(() => blockDeviceNamed(ctx.roots, name), {
    what: `the ${kind} ${devPath} (looked for ${ctx.roots.sysfs}/class/block/${name} and ${ctx.roots.dev}/${name})`,
    timeoutMs: ctx.timeoutMs,
    signal: ctx.signal,
    intervalMs: ctx.pollMs,
  });
  if (dev.name !== name && basename(dev.path) !== name) {
    throw new RuntimeFailure(`expected ${devPath} but the kernel named the device ${dev.name}`);
  }
  return dev;
}
