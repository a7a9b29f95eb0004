// Bus rescans: what to try when a hot-plugged device does not show up on its own. Without ACPI
// (e.g. Cloud Hypervisor direct boot on aarch64) no hotplug notification reaches the guest and
// only a PCI rescan finds the device (kata-containers#13889). SCSI LUNs need a host scan.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { DeviceContext } from "../context.js";
import { listMatching } from "../sysfs.js";

/** Writes 1 to /sys/bus/pci/rescan; returns a note for the timeout message. */
export async function pciRescan(ctx: DeviceContext): Promise<string | undefined> {
  if (!ctx.rescanBuses) return undefined;
  const file = join(ctx.roots.sysfs, "bus", "pci", "rescan");
  try {
    await writeFile(file, "1");
    ctx.log.info("hot-plugged device not seen yet; rescanned the PCI bus", { file });
    return `rescanned the PCI bus (${file})`;
  } catch (err) {
    ctx.log.warn("PCI rescan failed", { file, error: err });
    return `a PCI rescan (${file}) failed: ${(err as Error).message}`;
  }
}

/** Asks every SCSI host to scan channel 0 for target:lun (writes "0 <target> <lun>" to each host's scan file). */
export async function scsiScan(ctx: DeviceContext, target: number, lun: number): Promise<string> {
  if (!ctx.rescanBuses) return "no SCSI host scan (the agent is not running in a guest)";
  const hostsDir = join(ctx.roots.sysfs, "class", "scsi_host");
  const hosts = await listMatching(hostsDir, /^host\d+$/);
  for (const host of hosts) {
    try {
      await writeFile(join(hostsDir, host, "scan"), `0 ${target} ${lun}`);
    } catch (err) {
      ctx.log.warn("SCSI host scan failed", { host, error: err });
    }
  }
  return hosts.length > 0
    ? `scanned SCSI host(s) ${hosts.join(", ")} for 0 ${target} ${lun}`
    : `found no SCSI host under ${hostsDir} to scan`;
}
