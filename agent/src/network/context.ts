// What each network operation needs: the tools, the device finder for hot-plugged NICs, where
// /proc/sys is, and the calling RPC's signal and logger.

import { NotFoundError } from "../core/domain-error.js";
import type { PciPath } from "../devices/index.js";
import type { Logger } from "../log.js";
import type { Iproute2 } from "../tools/ip.js";

/** The devices manager's NIC lookup (DeviceManager.pciNic): waits for the NIC at a PCI path. */
export interface NicFinder {
  pciNic(path: PciPath, signal?: AbortSignal): Promise<string>;
}

export interface NetContext {
  ip: Iproute2;
  devices: NicFinder;
  /** "/proc/sys" (per network namespace: it shows the reader's). */
  procSys: string;
  signal?: AbortSignal;
  log?: Logger;
}

/** The error the Kata runtime retries UpdateInterface on while a hot-plugged NIC is on its way. */
export function linkNotFound(what: string, filter: string): NotFoundError {
  return new NotFoundError("interface", `${what}: Link not found (${filter})`);
}
