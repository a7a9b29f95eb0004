// virtio-scsi: the runtime names a LUN by "<target>:<lun>" on channel 0. The guest registers it as
// /sys/bus/scsi/devices/<host>:0:<target>:<lun>/block/<name>; a host scan makes it appear.
import { join } from "node:path";
import { InvalidInputError } from "../../core/domain-error.js";
import type { DeviceContext, DeviceSpec } from "../context.js";
import { type BlockDevice, listMatching, readBlockDir } from "../sysfs.js";
import { waitFor } from "../wait.js";
import { scsiScan } from "./rescan.js";

export const deviceTypes = ["scsi"] as const;

export async function resolve(device: DeviceSpec, ctx: DeviceContext): Promise<BlockDevice> {
  return findScsiDisk(ctx, device.id);
}

export function parseScsiAddress(address: string): { target: number; lun: number } {
  const m = /^(\d+):(\d+)$/.exec(address);
  if (!m) {
    throw new InvalidInputError(
      `invalid SCSI address ${JSON.stringify(address)}: expected "<target>:<lun>", e.g. "0:0"`,
    );
  }
  return { target: Number(m[1]), lun: Number(m[2]) };
}

export async function findScsiDisk(ctx: DeviceContext, address: string): Promise<BlockDevice> {
  const { target, lun } = parseScsiAddress(address);
  const devicesDir = join(ctx.roots.sysfs, "bus", "scsi", "devices");
  const pattern = new RegExp(`^\\d+:0:${target}:${lun}$`);
  const scanned = await scsiScan(ctx, target, lun);
  const probe = async (): Promise<BlockDevice | undefined> => {
    for (const hctl of await listMatching(devicesDir, pattern)) {
      const blockDir = join(devicesDir, hctl, "block");
      for (const name of await listMatching(blockDir, /./)) {
        const dev = await readBlockDir(ctx.roots, join(blockDir, name));
        if (dev) return dev;
      }
    }
    return undefined;
  };
  const dev = await waitFor(probe, {
    what: `the SCSI disk at address ${address} (looked for ${devicesDir}/<host>:0:${target}:${lun}/block/*; ${scanned})`,
    timeoutMs: ctx.timeoutMs,
    signal: ctx.signal,
    intervalMs: ctx.pollMs,
  });
  ctx.log.debug("SCSI disk found", { address, device: dev.path });
  return dev;
}
