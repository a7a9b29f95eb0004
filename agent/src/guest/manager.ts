// GuestManager: the guest-wide RPCs — what the guest is (GetGuestDetails, GetMetrics), hotplug
// (OnlineCPUMem, MemHotplugByProbe), clock, entropy, swap, and the mem-agent. It holds no
// per-container state; the rpc layer validates requests and calls one method per RPC.

import { type DomainError, InvalidInputError, UnavailableError, withContext } from "../core/domain-error.js";
import type { DeviceManager } from "../devices/index.js";
import type { Logger } from "../log.js";
import {
  type AgentDescription,
  describeAgent,
  memBlockSizeBytes,
  memHotplugProbeSupported,
} from "./details.js";
import { onlineCpus, onlineMemory, onlineRetry, probeMemory, type RetryOptions } from "./hotplug.js";
import type { CompactConfig, MemcgConfig, Update } from "./mem-agent/config.js";
import type { MemAgent } from "./mem-agent/mem-agent.js";
import { MetricsCollector } from "./metrics/collector.js";
import { type GuestRoots, realRoots } from "./roots.js";
import { type GuestSystem, nativeSystem } from "./system.js";

export interface GuestManagerOptions {
  agentVersion: string;
  log: Logger;
  /** Finds AddSwap's disk by PCI path (waiting up to agent.hotplug_timeout). */
  devices: Pick<DeviceManager, "virtioBlkPci">;
  /** Storage driver names the agent accepts, for agent_details. */
  storageHandlers: () => readonly string[];
  /** Device handler names, for agent_details (upstream always reports none). */
  deviceHandlers?: () => readonly string[];
  /** The running mem-agent; absent when agent.mem_agent_enable is off. */
  memAgent?: MemAgent;
  /** Called after CPUs came online, so containers' cpusets can take them in. */
  onCpusOnline?: (online: number) => Promise<void>;
  roots?: GuestRoots;
  system?: GuestSystem;
  onlineRetry?: RetryOptions;
  pid?: number;
}

export interface GuestDetails {
  memBlockSizeBytes: bigint;
  supportMemHotplugProbe: boolean;
  agentDetails: AgentDescription;
}

export class GuestManager {
  private readonly roots: GuestRoots;
  private readonly system: GuestSystem;
  private readonly metrics: MetricsCollector;
  private readonly log: Logger;

  constructor(private readonly options: GuestManagerOptions) {
    this.roots = options.roots ?? realRoots;
    this.system = options.system ?? nativeSystem;
    this.metrics = new MetricsCollector(this.roots.proc);
    this.log = options.log.child({ subsystem: "guest" });
  }

  async details(want: { memBlockSize: boolean; memHotplugProbe: boolean }): Promise<GuestDetails> {
    return {
      memBlockSizeBytes: want.memBlockSize ? await memBlockSizeBytes(this.roots.sys) : 0n,
      supportMemHotplugProbe: want.memHotplugProbe ? await memHotplugProbeSupported(this.roots.sys) : false,
      agentDetails: describeAgent({
        version: this.options.agentVersion,
        pid: this.options.pid ?? process.pid,
        deviceHandlers: this.options.deviceHandlers?.() ?? [],
        storageHandlers: this.options.storageHandlers(),
      }),
    };
  }

  /** Brings `nbCpus` CPUs online (0: leave CPUs alone), then, unless `cpuOnly`, all memory blocks. */
  async onlineCpuMem(request: { nbCpus: number; cpuOnly: boolean }, signal?: AbortSignal): Promise<void> {
    if (request.nbCpus > 0) {
      const retry = { ...(this.options.onlineRetry ?? onlineRetry), ...(signal ? { signal } : {}) };
      const online = await onlineCpus(this.roots.sys, request.nbCpus, retry);
      this.log.info("CPUs online", { wanted: request.nbCpus, online });
      await this.options.onCpusOnline?.(online);
    }
    if (!request.cpuOnly) {
      const blocks = await onlineMemory(this.roots.sys);
      if (blocks.length > 0) this.log.info("memory blocks online", { blocks });
    }
  }

  async probeMemory(addresses: readonly bigint[]): Promise<void> {
    await probeMemory(this.roots.sys, addresses);
  }

  setDateTime(sec: number, usec: number): void {
    try {
      this.system.settimeofday(sec, usec);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EINVAL") {
        throw new InvalidInputError(
          `the kernel refused the time Sec=${sec} Usec=${usec} (EINVAL): Usec must be 0-999999 and the time not negative`,
          { cause: err },
        );
      }
      throw wrap(err, "settimeofday", code === "EPERM" ? "the agent needs CAP_SYS_TIME" : undefined);
    }
  }

  reseedRandom(data: Uint8Array): void {
    try {
      this.system.addRandomEntropy(data);
    } catch (err) {
      throw wrap(err, "reseeding /dev/random", "crediting entropy needs CAP_SYS_ADMIN");
    }
  }

  /** Enables swap on the virtio-blk disk at `slots` ([2, 3] is "02/03"), once it shows up. */
  async addSwap(slots: readonly number[], signal?: AbortSignal): Promise<string> {
    const bad = slots.find((s) => s > 0x1f);
    if (slots.length === 0 || bad !== undefined) {
      throw new InvalidInputError(
        bad === undefined
          ? "PCIPath is empty; give the slot list"
          : `PCIPath slot ${bad} is out of range (0 to 31)`,
      );
    }
    const path = slots.map((s) => s.toString(16).padStart(2, "0")).join("/");
    const disk = await this.options.devices.virtioBlkPci(path, signal);
    this.swapon(disk.path, `PCI path ${path}`);
    return disk.path;
  }

  addSwapPath(path: string): void {
    this.swapon(path);
  }

  async scrapeMetrics(): Promise<string> {
    const { text, problems } = await this.metrics.scrape();
    if (problems.length > 0) this.log.debug("metrics sources unavailable", { problems });
    return text;
  }

  setMemcg(update: Update<MemcgConfig>): void {
    this.memAgent().setMemcg(update);
  }

  setCompact(update: Update<CompactConfig>): void {
    this.memAgent().setCompact(update);
  }

  close(): void {
    this.metrics.stop();
    this.options.memAgent?.stop();
  }

  private memAgent(): MemAgent {
    if (!this.options.memAgent) {
      // Upstream's text; the hint is ours.
      throw new UnavailableError("mem-agent is disabled (boot the guest with agent.mem_agent_enable=1)");
    }
    return this.options.memAgent;
  }

  private swapon(path: string, what?: string): void {
    try {
      this.system.swapon(path, 0);
      this.log.info("swap enabled", { path, ...(what ? { source: what } : {}) });
    } catch (err) {
      throw wrap(
        err,
        `swapon ${path}${what ? ` (${what})` : ""}`,
        SWAPON_HINTS[(err as NodeJS.ErrnoException).code ?? ""],
      );
    }
  }
}

const SWAPON_HINTS: Record<string, string> = {
  EINVAL: "it is not a swap area: run mkswap on it first (swap files must have no holes)",
  EBUSY: "it is already in use: active swap, or mounted",
  EPERM:
    "not permitted: the agent needs CAP_SYS_ADMIN and access to the device (device cgroup), or every swap slot is taken",
  ENOENT: "it does not exist",
};

/** A failed system call as a domain error (its kind from the errno), with context and a hint. */
function wrap(err: unknown, what: string, hint: string | undefined): DomainError {
  // The addon's messages start with the system call's name ("swapon: EINVAL (Invalid argument)").
  const syscall = (err as NodeJS.ErrnoException).syscall;
  return withContext(err, (message) => {
    const detail =
      syscall && message.startsWith(`${syscall}: `) ? message.slice(syscall.length + 2) : message;
    return `${what}: ${detail}${hint ? `; ${hint}` : ""}`;
  });
}
