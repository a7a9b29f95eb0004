// PCI paths as the Kata runtime writes them: slot numbers from the root bus down through bridges,
// "02/00" meaning "slot 02 on the root bus (a bridge), then slot 00 on the bus behind it". A slot
// may carry a function ("02.1"). A first segment of 0x20 or more followed by at least two more
// names a pxb-pcie root complex (NUMA): "20/00/02" is "00/02" under pci0000:20.
import { join } from "node:path";
import { InvalidInputError, PreconditionError } from "../core/domain-error.js";
import { listMatching } from "./sysfs.js";

export interface PciPath {
  /** Two hex digits: "00" for pci0000:00. */
  rootComplex: string;
  slots: { slot: number; fn: number }[];
  /** As the runtime sent it. */
  text: string;
}

const PXB_ROOT_BUS_MIN = 0x20;

export function parsePciPath(text: string): PciPath {
  const segments = text.split("/");
  let rootComplex = "00";
  let rest = segments;
  if (segments.length >= 3 && /^[0-9a-f]{2}$/i.test(segments[0]!)) {
    const bus = Number.parseInt(segments[0]!, 16);
    if (bus >= PXB_ROOT_BUS_MIN) {
      rootComplex = segments[0]!.toLowerCase();
      rest = segments.slice(1);
    }
  }
  const slots = rest.map((segment) => {
    const m = /^([0-9a-fA-F]{1,2})(?:\.([0-7]))?$/.exec(segment);
    const slot = m ? Number.parseInt(m[1]!, 16) : Number.NaN;
    if (!m || slot > 0x1f) {
      throw new InvalidInputError(
        `invalid PCI path ${JSON.stringify(text)}: "${segment}" is not a slot (00-1f, optionally .function 0-7)`,
      );
    }
    return { slot, fn: m[2] ? Number(m[2]) : 0 };
  });
  return { rootComplex, slots, text };
}

export function isPciPath(text: string): boolean {
  try {
    parsePciPath(text);
    return true;
  } catch {
    return false;
  }
}

const hex2 = (n: number) => n.toString(16).padStart(2, "0");

/** sysfs directory of the PCI root bus: <sysfs>/devices/pci0000:00. */
export function rootBusDir(sysfs: string, path: PciPath): string {
  return join(sysfs, "devices", `pci0000:${path.rootComplex}`);
}

/**
 * The sysfs directory of the device at `path`, following each bridge's secondary bus
 * (<bridge>/pci_bus/<domain:bus>); `missing` says how far the walk got while it is not there yet.
 */
export async function pciDeviceDir(
  sysfs: string,
  path: PciPath,
): Promise<{ dir: string } | { missing: string }> {
  let bus = `0000:${path.rootComplex}`;
  let dir = rootBusDir(sysfs, path);
  for (const [i, { slot, fn }] of path.slots.entries()) {
    dir = join(dir, `${bus}:${hex2(slot)}.${fn}`);
    if (i === path.slots.length - 1) break;
    const busDir = join(dir, "pci_bus");
    const buses = await listMatching(busDir, /^[0-9a-f]{4}:[0-9a-f]{2}$/);
    if (buses.length === 0) return { missing: `${busDir}/*` };
    if (buses.length > 1) {
      throw new PreconditionError(
        `PCI path ${path.text}: expected one bus behind the bridge at ${dir}, found ${buses.join(", ")}`,
      );
    }
    bus = buses[0]!;
  }
  return { dir };
}
