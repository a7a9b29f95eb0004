// What the sandbox, container and process services share: the containers of this pod, the
// sandbox around them, the reaper that collects exit statuses, the OOM watcher, and the OCI
// runtime (resolved on first use, so that start-up stays quick).
import { existsSync } from "node:fs";
import path from "node:path";
import type { DeviceManager } from "../devices/index.js";
import type { Logger } from "../log.js";
import { Reaper } from "../processes/reaper.js";
import { OciRuntime } from "../runtime/oci-runtime.js";
import type { StorageManager } from "../storage/index.js";
import { type Container, ContainerRegistry } from "./container.js";
import { OomEvents } from "./oom.js";
import { Sandbox } from "./sandbox.js";

export interface PodOptions {
  runDir: string;
  /** "crun", "runc", a path, or "auto". */
  ociRuntime: string;
  containerPipeSize: number;
  /** Acting on the guest itself (hostname, resolv.conf, modules) is only safe inside a VM. */
  inGuest: boolean;
  storage: StorageManager;
  devices: DeviceManager;
  log: Logger;
  /** The agent's one reaper, when others (the debug console) reap children too. */
  reaper?: Reaper;
}

const SIGKILL = 9;

export class Pod {
  readonly registry = new ContainerRegistry();
  readonly sandbox: Sandbox;
  readonly oom: OomEvents;
  readonly reaper: Reaper;
  readonly log: Logger;
  private opened: Promise<OciRuntime> | undefined;

  constructor(readonly options: PodOptions) {
    this.log = options.log.child({ subsystem: "containers" });
    this.reaper = options.reaper ?? new Reaper(this.log);
    this.oom = new OomEvents(this.log);
    this.sandbox = new Sandbox(options.runDir, options.inGuest, this.log);
  }

  /** The OCI runtime, resolved and asked for its version on first use (again after a failure). */
  runtime(): Promise<OciRuntime> {
    this.opened ??= OciRuntime.open({
      choice: this.options.ociRuntime,
      stateDir: path.join(this.options.runDir, ".oci-state"),
    }).then((rt) => {
      if (rt.passedOver) {
        this.log.warn(`not using crun: ${rt.passedOver}; using ${rt.flavour} instead`, {
          path: rt.path,
          version: rt.version,
        });
      } else this.log.info("OCI runtime", { path: rt.path, flavour: rt.flavour, version: rt.version });
      return rt;
    });
    this.opened.catch(() => {
      this.opened = undefined;
    });
    return this.opened;
  }

  /**
   * The container whose namespaces the pod shares: the first one, or, once it is gone, any
   * live container that joined them. Undefined when the next container starts a new pod.
   */
  namespaceHolder(): { containerId: string; pid: number } | undefined {
    const alive = (pid: number) => existsSync(`/proc/${pid}/ns/ipc`);
    if (this.sandbox.owner && alive(this.sandbox.owner.pid)) return this.sandbox.owner;
    const next = this.registry.all().find((c) => !c.stopped && alive(c.initPid));
    this.sandbox.owner = next ? { containerId: next.id, pid: next.initPid } : undefined;
    return this.sandbox.owner;
  }

  /** SIGKILL to every process of the container (nothing to do once it has stopped). */
  async killAll(container: Container): Promise<void> {
    if (container.state === "stopped") return;
    const runtime = await this.runtime();
    try {
      await runtime.kill(container.id, SIGKILL, { all: true, logDir: container.bundle });
    } catch (err) {
      // Raced with the container's own exit: nothing left to kill, as ESRCH upstream.
      if (!container.stopped) throw err;
    }
  }

  close(): void {
    this.reaper.close();
  }
}
