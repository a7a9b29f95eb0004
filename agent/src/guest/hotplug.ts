// CPU and memory hotplug inside the guest: after the VMM adds CPUs or memory, the kernel may
// leave them offline until someone writes "1" to their sysfs `online` file (OnlineCPUMem), and
// on some architectures memory must first be announced by address (MemHotplugByProbe).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { RuntimeFailure } from "../core/domain-error.js";
import { countCpuList, numberedEntries, readOptional, writeAttribute } from "./sysfs.js";

export interface RetryOptions {
  /** Rounds before giving up; upstream uses 100. */
  rounds: number;
  /** Pause between rounds; upstream uses 50 ms. */
  intervalMs: number;
  signal?: AbortSignal;
}

export const onlineRetry: RetryOptions = { rounds: 100, intervalMs: 50 };

/** How many CPUs the kernel reports online (cpu/online, e.g. "0-3"). */
export async function onlineCpuCount(sys: string): Promise<number> {
  const path = join(sys, "devices/system/cpu/online");
  return countCpuList(await readFile(path, "utf8"));
}

/**
 * Brings CPUs online until at least `wanted` are, as upstream does: a hot-plugged CPU's sysfs
 * directory can appear a little after the VMM reports it, so offline CPUs are looked for again
 * each round. Resolves with the number online; rejects naming what was seen if it never gets there.
 */
export async function onlineCpus(
  sys: string,
  wanted: number,
  retry: RetryOptions = onlineRetry,
): Promise<number> {
  const cpuDir = join(sys, "devices/system/cpu");
  let online = await onlineCpuCount(sys);
  const failures = new Map<string, string>();
  for (let round = 0; online < wanted && round < retry.rounds; round++) {
    if (round > 0) {
      await sleep(retry.intervalMs, undefined, { signal: retry.signal });
      // CPUs may have come online meanwhile (some VMMs online them themselves).
      online = await onlineCpuCount(sys);
      if (online >= wanted) break;
    }
    let missing = wanted - online;
    for (const cpu of await offlineEntries(cpuDir, "cpu")) {
      if (missing === 0) break;
      try {
        await writeAttribute(join(cpuDir, cpu, "online"), "1");
        failures.delete(cpu);
        missing--;
      } catch (err) {
        failures.set(cpu, (err as Error).message);
      }
    }
    online = await onlineCpuCount(sys);
  }
  if (online >= wanted) return online;
  const why =
    failures.size > 0
      ? [...failures].map(([cpu, message]) => `${cpu}: ${message}`).join("; ")
      : `no offline CPU is left in ${cpuDir}; check that the VMM hot-plugged them`;
  throw new RuntimeFailure(
    `only ${online} of the ${wanted} CPUs asked for are online after ${retry.rounds} rounds ` +
      `${retry.intervalMs} ms apart: ${why}`,
  );
}

/** Brings every offline memory block online; resolves with the blocks it onlined. */
export async function onlineMemory(sys: string): Promise<string[]> {
  const memoryDir = join(sys, "devices/system/memory");
  const onlined: string[] = [];
  const failures: string[] = [];
  for (const block of await offlineEntries(memoryDir, "memory")) {
    try {
      await writeAttribute(join(memoryDir, block, "online"), "1");
      onlined.push(block);
    } catch (err) {
      failures.push(`${block}: ${(err as Error).message}`);
    }
  }
  if (failures.length > 0) {
    throw new RuntimeFailure(`cannot online memory blocks: ${failures.join("; ")}`);
  }
  return onlined;
}

/** Announces hot-added memory to the kernel, one physical address per write ("0x%X", as upstream). */
export async function probeMemory(sys: string, addresses: readonly bigint[]): Promise<void> {
  const probe = join(sys, "devices/system/memory/probe");
  for (const address of addresses) {
    const text = `0x${address.toString(16).toUpperCase()}`;
    try {
      await writeAttribute(probe, text);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") {
        throw new RuntimeFailure(
          `${probe} does not exist: this kernel has no memory probe interface ` +
            `(CONFIG_ARCH_MEMORY_PROBE); GetGuestDetails reports support_mem_hotplug_probe`,
          { cause: err },
        );
      }
      throw new RuntimeFailure(`writing ${text} to ${probe}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}

/** Entries `<prefix>N` under `dir` whose `online` file says 0 (entries without one stay as they are). */
async function offlineEntries(dir: string, prefix: string): Promise<string[]> {
  const offline: string[] = [];
  for (const name of await numberedEntries(dir, prefix)) {
    if ((await readOptional(join(dir, name, "online"))) === "0") offline.push(name);
  }
  return offline;
}
