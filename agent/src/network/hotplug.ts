// Waiting for a hot-plugged NIC: UpdateInterface may carry the PCI path the VMM plugged it at
// ("02/00": slot 02 on the root bus, then slot 00 behind that bridge), and may arrive before the
// guest kernel has probed the device. sysfs sends no inotify events for new entries, so the wait
// polls /sys/class/net (a handful of symlinks) until one resolves under the device's directory.
import { readdir, realpath } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Code } from "../core/code.js";
import { AgentError } from "../core/error.js";

export interface PciSlot {
  device: number;
  fn: number;
}

export interface PciPath {
  /** As the runtime sent it, e.g. "02/00". */
  text: string;
  slots: PciSlot[];
}

const POLL_MS = 20;

/** "02/00" or "02.1/00": hex slot numbers (0-1f), optional function (0-7), one per bus level. */
export function parsePciPath(text: string, field: string): PciPath {
  const parts = text.split("/");
  const slots = parts.map((part) => {
    const m = /^([0-9a-fA-F]{1,2})(?:\.([0-7]))?$/.exec(part);
    const device = m ? Number.parseInt(m[1]!, 16) : Number.NaN;
    if (!m || device > 0x1f)
      throw new AgentError(
        Code.InvalidArgument,
        `${field}: ${JSON.stringify(text)} is not a PCI path like "02/00" (hex slots 00-1f separated by '/')`,
      );
    return { device, fn: m[2] === undefined ? 0 : Number(m[2]) };
  });
  return { text, slots };
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

/**
 * The device's directory under <sysfs>/devices, following each bridge's subordinate bus, or
 * undefined while a bridge on the way is not there yet.
 */
export async function pciDeviceDir(sysfs: string, path: PciPath): Promise<string | undefined> {
  let dir = join(sysfs, "devices", "pci0000:00");
  let bus = "0000:00";
  for (const [i, slot] of path.slots.entries()) {
    dir = join(dir, `${bus}:${hex(slot.device, 2)}.${slot.fn}`);
    if (i === path.slots.length - 1) break;
    let buses: string[];
    try {
      buses = await readdir(join(dir, "pci_bus"));
    } catch {
      return undefined;
    }
    const next = buses.find((b) => /^[0-9a-f]{4}:[0-9a-f]{2}$/.test(b));
    if (next === undefined) return undefined;
    bus = next;
  }
  return dir;
}

/** The name of the network interface whose device lives under `deviceDir`, if any. */
export async function netInterfaceUnder(sysfs: string, deviceDir: string): Promise<string | undefined> {
  const classDir = join(sysfs, "class", "net");
  let names: string[];
  try {
    names = await readdir(classDir);
  } catch {
    return undefined;
  }
  for (const name of names) {
    try {
      const target = await realpath(join(classDir, name));
      if (target.startsWith(`${deviceDir}/`)) return name;
    } catch {
      // the link went away between readdir and realpath
    }
  }
  return undefined;
}

export interface WaitOptions {
  sysfs: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Resolves with the interface name once the NIC at `path` exists; INTERNAL after the timeout. */
export async function waitForNic(path: PciPath, options: WaitOptions): Promise<string> {
  const deadline = Date.now() + options.timeoutMs;
  const sysfs = await realpath(options.sysfs).catch(() => options.sysfs);
  for (;;) {
    const dir = await pciDeviceDir(sysfs, path);
    const name = dir === undefined ? undefined : await netInterfaceUnder(sysfs, dir);
    if (name !== undefined) return name;
    if (Date.now() >= deadline)
      throw new AgentError(
        Code.Internal,
        `network device at PCI path ${path.text} did not appear in ${join(options.sysfs, "class/net")} ` +
          `within ${options.timeoutMs} ms; if the hypervisor is slow to hot-plug NICs, ` +
          `raise agent.hotplug_timeout (seconds) on the kernel command line`,
      );
    // Rejects with an AbortError when the RPC is cancelled or its deadline passes.
    await sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now())), undefined, { signal: options.signal });
  }
}
