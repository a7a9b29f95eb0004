// PCI path → block device, for AddSwap. A PCI path lists device slots from the root complex
// down through bridges ("02/03": slot 2 on bus 00 is a bridge, the disk is slot 3 behind it).
// This is a small sysfs poller of its own; the devices module's uevent watcher can replace it.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Code } from "../core/code.js";
import { AgentError } from "../core/error.js";

const ROOT_BUS = "0000:00";

/** "02/03", the form the runtime and upstream logs use. */
export function formatPciPath(slots: readonly number[]): string {
  return slots.map((s) => s.toString(16).padStart(2, "0")).join("/");
}

export function validatePciPath(slots: readonly number[]): void {
  if (slots.length === 0) throw new AgentError(Code.InvalidArgument, "PCIPath is empty; give the slot list");
  const bad = slots.find((s) => !Number.isInteger(s) || s < 0 || s > 31);
  if (bad !== undefined) {
    throw new AgentError(Code.InvalidArgument, `PCIPath slot ${bad} is out of range (a PCI slot is 0 to 31)`);
  }
}

/**
 * The sysfs directory of the device at `slots`, or where the search stopped (a bridge whose
 * secondary bus is not there yet, or the missing device) when it does not exist (yet).
 */
export async function findPciDevice(
  sys: string,
  slots: readonly number[],
): Promise<{ dir: string } | { missing: string }> {
  let dir = join(sys, "devices", `pci${ROOT_BUS}`);
  let bus = ROOT_BUS;
  for (const [i, slot] of slots.entries()) {
    if (i > 0) {
      // A bridge's secondary bus shows up as <bridge>/pci_bus/<domain:bus>.
      const buses = await entries(join(dir, "pci_bus"));
      if (buses[0] === undefined) return { missing: join(dir, "pci_bus") };
      bus = buses[0];
    }
    const device = `${bus}:${slot.toString(16).padStart(2, "0")}.0`;
    if (!(await entries(dir)).includes(device)) return { missing: join(dir, device) };
    dir = join(dir, device);
  }
  return { dir };
}

/** The block device name (e.g. "vdb") under a PCI device: <dev>/block/X or <dev>/virtioN/block/X. */
export async function blockDeviceName(deviceDir: string): Promise<string | undefined> {
  const direct = await entries(join(deviceDir, "block"));
  if (direct[0] !== undefined) return direct[0];
  for (const child of await entries(deviceDir)) {
    if (!child.startsWith("virtio")) continue;
    const names = await entries(join(deviceDir, child, "block"));
    if (names[0] !== undefined) return names[0];
  }
  return undefined;
}

/**
 * Waits until the virtio-blk disk at `slots` has a block device, polling sysfs. Rejects after
 * `timeoutMs` naming the PCI path, the sysfs path waited on and the setting that changes the wait.
 */
export async function waitForPciBlockDevice(
  sys: string,
  slots: readonly number[],
  options: { timeoutMs: number; pollMs?: number; signal?: AbortSignal },
): Promise<string> {
  validatePciPath(slots);
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const found = await findPciDevice(sys, slots);
    let waitingFor: string;
    if ("dir" in found) {
      const name = await blockDeviceName(found.dir);
      if (name !== undefined) return name;
      waitingFor = `${found.dir}/{block,virtio*/block}`;
    } else {
      waitingFor = found.missing;
    }
    if (Date.now() >= deadline) {
      throw new AgentError(
        Code.Internal,
        `no block device for PCI path ${formatPciPath(slots)} after ${options.timeoutMs} ms: ` +
          `${waitingFor} does not exist; check the VMM attached the disk there, or raise ` +
          `agent.hotplug_timeout`,
      );
    }
    await sleep(options.pollMs ?? 50, undefined, { signal: options.signal });
  }
}

async function entries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw err;
  }
}
