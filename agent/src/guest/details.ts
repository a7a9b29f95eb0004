// GetGuestDetails: what the runtime needs to plan memory hotplug, and what this agent is.
import { access } from "node:fs/promises";
import { join } from "node:path";
import { RuntimeFailure } from "../core/domain-error.js";
import { readOptional } from "./sysfs.js";

/**
 * The memory hotplug granularity: the hex number in memory/block_size_bytes ("8000000" is
 * 128 MiB). 0 when the kernel has no memory hotplug (the file is absent), as upstream.
 */
export async function memBlockSizeBytes(sys: string): Promise<bigint> {
  const path = join(sys, "devices/system/memory/block_size_bytes");
  const text = await readOptional(path);
  if (text === undefined) return 0n;
  if (!/^(0x)?[0-9a-f]+$/i.test(text)) {
    throw new RuntimeFailure(`${path} holds ${JSON.stringify(text)}, not a hex number`);
  }
  return BigInt(text.startsWith("0x") ? text : `0x${text}`);
}

/** Whether memory can be added by writing addresses to memory/probe (CONFIG_ARCH_MEMORY_PROBE). */
export async function memHotplugProbeSupported(sys: string): Promise<boolean> {
  try {
    await access(join(sys, "devices/system/memory/probe"));
    return true;
  } catch {
    return false;
  }
}

export interface AgentDescription {
  version: string;
  initDaemon: boolean;
  deviceHandlers: string[];
  storageHandlers: string[];
  supportsSeccomp: boolean;
  extraFeatures: string[];
}

export function describeAgent(input: {
  version: string;
  pid: number;
  deviceHandlers: readonly string[];
  storageHandlers: readonly string[];
}): AgentDescription {
  return {
    version: input.version,
    initDaemon: input.pid === 1,
    deviceHandlers: [...input.deviceHandlers],
    storageHandlers: [...input.storageHandlers],
    // Containers run under crun or runc, which apply the OCI spec's seccomp profile.
    supportsSeccomp: true,
    // Upstream's sorted subset of its build features; both are always present here.
    extraFeatures: ["agent-policy", "seccomp"],
  };
}
