// virtio-blk on PCI. The runtime names the disk by its PCI path ("02/00"); the guest kernel puts
// it at <pci device>/virtio<N>/block/<name>. Older runtimes sent the /dev path in vm_path instead.
import { join } from "node:path";
import type { DeviceContext, DeviceSpec } from "../context.js";
import { isPciPath, type PciPath, parsePciPath, pciDeviceDir, rootBusDir } from "../pci-path.js";
import { type BlockDevice, listMatching, readBlockDir } from "../sysfs.js";
import { waitFor } from "../wait.js";
import { findNamedBlock } from "./mmioblk.js";
import { pciRescan } from "./rescan.js";

export const deviceTypes = ["blk"] as const;

export async function resolve(device: DeviceSpec, ctx: DeviceContext): Promise<BlockDevice> {
  if (device.id !== "" && isPciPath(device.id)) return findVirtioBlkPci(ctx, parsePciPath(device.id));
  if (device.vmPath !== "") return findNamedBlock(ctx, device.vmPath, "virtio-blk disk");
  return findVirtioBlkPci(ctx, parsePciPath(device.id));
}

export async function findVirtioBlkPci(ctx: DeviceContext, path: PciPath): Promise<BlockDevice> {
  let lookedAt = rootBusDir(ctx.roots.sysfs, path);
  const probe = async (): Promise<BlockDevice | undefined> => {
    const found = await pciDeviceDir(ctx.roots.sysfs, path);
    if ("missing" in found) {
      lookedAt = found.missing;
      return undefined;
    }
    lookedAt = join(found.dir, "virtio*", "block", "*");
    for (const virtio of await listMatching(found.dir, /^virtio\d+$/)) {
      const blockDir = join(found.dir, virtio, "block");
      for (const name of await listMatching(blockDir, /./)) {
        const dev = await readBlockDir(ctx.roots, join(blockDir, name));
        if (dev) return dev;
      }
    }
    return undefined;
  };
  const dev = await waitFor(probe, {
    get what() {
      return `the virtio-blk disk at PCI path ${path.text} on root bus pci0000:${path.rootComplex} (looked for ${lookedAt})`;
    },
    timeoutMs: ctx.timeoutMs,
    signal: ctx.signal,
    intervalMs: ctx.pollMs,
    nudge: { afterMs: Math.min(1000, ctx.timeoutMs / 2), run: () => pciRescan(ctx) },
  });
  ctx.log.debug("virtio-blk disk found", { pciPath: path.text, device: dev.path });
  return dev;
}
