// The agent's managers, each made (and its code loaded) the first time a handler asks for it:
// answering Health.Check needs none of them, so none is on the start-up path. Shared ones
// (devices, storage, the pod) are made once and handed to every manager built on them.
import type { AgentConfig } from "./config/table.js";
import type { ContainerService } from "./containers/container-service.js";
import type { Pod } from "./containers/pod.js";
import type { ProcessService } from "./containers/process-service.js";
import type { SandboxService } from "./containers/sandbox-service.js";
import type { DeviceManager } from "./devices/index.js";
import type { FileService } from "./files/index.js";
import type { GuestManager } from "./guest/manager.js";
import type { MemAgent } from "./guest/mem-agent/mem-agent.js";
import type { Logger } from "./log.js";
import type { NetworkManager } from "./network/index.js";
import type { Reaper } from "./processes/reaper.js";
import type { AgentDeps } from "./rpc/index.js";
import { PolicyGate } from "./rpc/policy-gate.js";
import type { StorageManager } from "./storage/index.js";
import { AGENT_VERSION, API_VERSION } from "./version.js";

/** A value made on first call; later calls share it (a failed attempt is retried). */
export interface Once<T> {
  (): Promise<T>;
  /** The value if it has been made. */
  readonly made: T | undefined;
}

export function once<T>(make: () => Promise<T>): Once<T> {
  let pending: Promise<T> | undefined;
  let made: T | undefined;
  const get = () => {
    pending ??= make().then(
      (value) => {
        made = value;
        return value;
      },
      (err: unknown) => {
        pending = undefined;
        throw err;
      },
    );
    return pending;
  };
  return Object.defineProperty(get, "made", { get: () => made }) as Once<T>;
}

export interface ServicesOptions {
  config: AgentConfig;
  log: Logger;
  /** Acting on the guest itself (hostname, resolv.conf, modules, bus rescans) is for a VM only. */
  inGuest: boolean;
  memAgent?: MemAgent;
  /** The agent's one reaper (the debug console's shells are its children too). */
  reaper: Reaper;
  /** DestroySandbox ends the agent, as upstream. */
  onSandboxDestroyed: () => void;
  /** What Version reports besides the managers' features (decided in main). */
  features: () => {
    inGuest: boolean;
    inGuestReason: string;
    debugConsole: string[];
    vsockLoopbackAllowed: boolean;
  };
}

export class AgentServices implements AgentDeps {
  readonly agentVersion = AGENT_VERSION;
  readonly apiVersion = API_VERSION;
  readonly policy: PolicyGate;

  constructor(private readonly options: ServicesOptions) {
    this.policy = new PolicyGate(options.log);
  }

  readonly devices: Once<DeviceManager> = once(async () => {
    const { DeviceManager } = await import("./devices/index.js");
    return new DeviceManager({
      hotplugTimeoutMs: this.options.config.hotplugTimeoutMs,
      // In a guest, a late device may be looked for by rescanning its bus.
      rescanBuses: this.options.inGuest,
      log: this.options.log,
    });
  });

  readonly storage: Once<StorageManager> = once(async () => {
    const [{ StorageManager }, devices] = await Promise.all([import("./storage/index.js"), this.devices()]);
    return new StorageManager({ runDir: this.options.config.runDir, devices, log: this.options.log });
  });

  readonly files: Once<FileService> = once(async () => {
    const [{ FileService }, storage] = await Promise.all([import("./files/index.js"), this.storage()]);
    return new FileService({ root: storage.sharedDir, log: this.options.log });
  });

  readonly pod: Once<Pod> = once(async () => {
    const [{ Pod }, storage, devices] = await Promise.all([
      import("./containers/pod.js"),
      this.storage(),
      this.devices(),
    ]);
    const { config, inGuest, log, reaper } = this.options;
    return new Pod({
      runDir: config.runDir,
      ociRuntime: config.ociRuntime,
      containerPipeSize: config.containerPipeSize,
      inGuest,
      storage,
      devices,
      log,
      reaper,
    });
  });

  readonly containers: Once<ContainerService> = once(async () => {
    const [{ ContainerService }, pod] = await Promise.all([
      import("./containers/container-service.js"),
      this.pod(),
    ]);
    return new ContainerService(pod);
  });

  readonly sandbox: Once<SandboxService> = once(async () => {
    const [{ SandboxService }, pod, containers] = await Promise.all([
      import("./containers/sandbox-service.js"),
      this.pod(),
      this.containers(),
    ]);
    return new SandboxService(pod, containers, this.options.onSandboxDestroyed);
  });

  readonly processes: Once<ProcessService> = once(async () => {
    const [{ ProcessService }, pod] = await Promise.all([
      import("./containers/process-service.js"),
      this.pod(),
    ]);
    return new ProcessService(pod);
  });

  readonly network: Once<NetworkManager> = once(async () => {
    const [{ NetworkManager }, devices] = await Promise.all([import("./network/index.js"), this.devices()]);
    return new NetworkManager({ devices });
  });

  readonly guest: Once<GuestManager> = once(async () => {
    const [{ GuestManager }, devices, storage] = await Promise.all([
      import("./guest/manager.js"),
      this.devices(),
      this.storage(),
    ]);
    const { memAgent, log } = this.options;
    return new GuestManager({
      agentVersion: AGENT_VERSION,
      log,
      devices,
      storageHandlers: () => storage.drivers(),
      ...(memAgent ? { memAgent } : {}),
    });
  });

  async features() {
    const { config } = this.options;
    const [storage, { POLICY_ENGINE }] = await Promise.all([this.storage(), import("./policy/policy.js")]);
    return {
      apiVersion: API_VERSION,
      wires: ["ttrpc", ...(config.grpcAddr ? ["grpc"] : [])],
      transports: ["vsock", "unix", "tcp", "serial"],
      storageDrivers: storage.drivers(),
      // Every RPC has a handler (rpc/index.ts does not compile otherwise).
      unimplemented: [],
      policyEngine: POLICY_ENGINE,
      ociRuntime: config.ociRuntime,
      nodeVersion: process.version,
      ...this.options.features(),
    };
  }

  /** Stops what runs in the background (the containers' processes); only what was made. */
  async shutdown(): Promise<void> {
    await this.containers.made?.shutdown();
  }
}
