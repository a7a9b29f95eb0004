// Containers: create (devices, storages, spec, bundle, stdio, OCI runtime), start, pause and
// resume, update, stats, remove, and the termination log. The init process is registered under
// the container id; the reaper reports its exit, which stops the container.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { CreateContainerRequest } from "../../gen/agent_pb.js";
import type { LinuxResources } from "../../gen/oci_pb.js";
import {
  AlreadyExistsError,
  InvalidInputError,
  PreconditionError,
  TimedOutError,
} from "../core/domain-error.js";
import { timerDelay } from "../core/timer.js";
import { ContainerProcess } from "../processes/process.js";
import { type PreparedStdio, prepareStdio } from "../processes/stdio.js";
import { cgroupPathsOf } from "./cgroups.js";
import { Container } from "./container.js";
import { badSpec, validateContainerId } from "./ids.js";
import { cgroupsPathFor, setNamespaces } from "./namespaces.js";
import { toResources, toRuntimeSpec } from "./oci-spec.js";
import type { Pod } from "./pod.js";
import { stringifyExact } from "./runtime-spec.js";
import { readStats } from "./stats.js";

/** How long RemoveContainer waits for the init to die after SIGKILL before deleting anyway. */
const KILL_WAIT_MS = 10_000;
const TERMINATION_LOG_ANNOTATION = "io.kubernetes.container.terminationMessagePath";

export class ContainerService {
  constructor(private readonly pod: Pod) {}

  async create(req: CreateContainerRequest, signal: AbortSignal): Promise<void> {
    const id = req.containerId;
    validateContainerId(id);
    if (this.pod.registry.has(id))
      throw new AlreadyExistsError("container", `container ${id} already exists`);
    const oci = req.OCI;
    if (!oci) throw badSpec("EINVAL: Invalid argument: CreateContainerRequest carries no OCI spec");
    if (!oci.Linux) throw badSpec("Spec does not contain linux field");
    if (!oci.Process) throw badSpec("EINVAL: Invalid argument: the OCI spec has no process");
    if (!oci.Root?.Path) throw badSpec("EINVAL: Invalid argument: the OCI spec has no root path");
    if (req.sandboxPidns && !this.pod.namespaceHolder() && this.pod.registry.size) {
      throw new PreconditionError(
        "sandbox_pidns requested but the sandbox has no PID namespace: its containers have all exited",
      );
    }
    const runtime = await this.pod.runtime();
    await this.pod.options.devices.resolveDevices(req.devices, oci, signal);
    await this.pod.options.storage.add(req.storages, id, signal);

    const bundle = path.join(this.pod.options.runDir, id);
    let stdio: PreparedStdio | undefined;
    let created = false;
    try {
      const spec = toRuntimeSpec(oci);
      const holder = this.pod.namespaceHolder();
      setNamespaces(spec, holder ? { ownerPid: holder.pid } : {}, req.sandboxPidns);
      spec.linux!.cgroupsPath = cgroupsPathFor(spec.linux?.cgroupsPath, id);
      const hooks = this.pod.sandbox.mergeHooks(spec.hooks);
      if (Object.keys(hooks).length) spec.hooks = hooks;
      rmSync(bundle, { recursive: true, force: true });
      mkdirSync(bundle, { recursive: true, mode: 0o700 });
      writeFileSync(path.join(bundle, "config.json"), stringifyExact(spec));

      const terminal = spec.process?.terminal === true;
      stdio = await prepareStdio({
        terminal,
        dir: bundle,
        name: "init",
        pipeSize: this.pod.options.containerPipeSize,
      });
      const pid = await runtime.create(id, bundle, stdio.childIo, {
        pidFile: path.join(bundle, "init.pid"),
        ...(stdio.consoleSocket ? { consoleSocket: stdio.consoleSocket } : {}),
        signal,
      });
      created = true;
      const streams = await stdio.attach();
      const container = new Container(id, bundle, spec, cgroupPathsOf(pid), pid);
      const init = new ContainerProcess(id, pid, terminal, streams);
      container.processes.set(id, init);
      this.pod.registry.add(container);
      if (!holder) this.pod.sandbox.owner = { containerId: id, pid };
      this.pod.reaper.track(pid, (status) => this.onInitExit(container, init, status.status));
      this.pod.log.info("container created", { container: id, processPid: pid, runtime: runtime.flavour });
    } catch (err) {
      stdio?.dispose();
      if (created) await runtime.delete(id, bundle).catch(() => {});
      await this.pod.options.storage.release(id).catch(() => {});
      rmSync(bundle, { recursive: true, force: true });
      throw err;
    }
  }

  async start(id: string): Promise<void> {
    const container = this.pod.registry.get(id);
    if (container.state !== "created") {
      throw new PreconditionError(`container ${id} is ${container.state}, not created: it cannot be started`);
    }
    const init = container.process(id, true);
    const via = await (await this.pod.runtime()).start(id, container.bundle, {
      poststartHooks: (container.spec.hooks?.poststart?.length ?? 0) > 0,
      initExit: init.whenExited(),
    });
    if (container.state === "created") container.state = "running";
    container.stopOomWatch = this.pod.oom.watch(id, container.cgroups);
    this.pod.log.info("container started", { container: id, via });
  }

  async pause(id: string): Promise<void> {
    const container = this.pod.registry.get(id, "invalid container id");
    if (container.state !== "running" && container.state !== "created") {
      throw new PreconditionError(
        `container ${id} is ${container.state}: only a running container can be paused`,
      );
    }
    await (await this.pod.runtime()).pause(id, container.bundle);
    container.state = "paused";
  }

  async resume(id: string): Promise<void> {
    const container = this.pod.registry.get(id, "invalid container id");
    if (container.state !== "paused") {
      throw new PreconditionError(`container ${id} is ${container.state}, not paused`);
    }
    await (await this.pod.runtime()).resume(id, container.bundle);
    container.state = "running";
  }

  async update(id: string, resources: LinuxResources | undefined): Promise<void> {
    const container = this.pod.registry.get(id, "invalid container id");
    if (!resources) return;
    const converted = toResources(resources);
    const file = path.join(container.bundle, "resources.json");
    writeFileSync(file, stringifyExact(converted));
    await (await this.pod.runtime()).update(id, file, container.bundle);
    if (container.spec.linux) container.spec.linux.resources = converted;
  }

  stats(id: string) {
    const container = this.pod.registry.get(id, "invalid container id");
    return { cgroupStats: readStats(container.cgroups), networkStats: [] };
  }

  /**
   * Kills what is left of the container, deletes it and releases its storages. With a timeout
   * (seconds), the caller gets ETIME if that is not enough, and the removal carries on.
   */
  async remove(id: string, timeoutSeconds: number): Promise<void> {
    const container = this.pod.registry.get(id);
    container.removal ??= this.destroy(container);
    // 2^32-1 seconds (and anything a timer cannot hold) is no limit, as 0 is.
    const delay = timerDelay(timeoutSeconds * 1000);
    if (delay === undefined) return container.removal;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new TimedOutError(`ETIME: Timer expired: container ${id} not removed within ${timeoutSeconds}s`, {
              subject: "removal",
            }),
          ),
        delay,
      );
    });
    try {
      await Promise.race([container.removal, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** GetDiagnosticData: the container's termination log, as Kubernetes asked for it. */
  diagnosticData(logType: string, containerId: string): string {
    if (logType !== "termination_log") {
      throw new InvalidInputError(`unsupported diagnostic log_type: ${logType} (only termination_log)`);
    }
    const container = this.pod.registry.get(containerId);
    const destination = container.spec.annotations?.[TERMINATION_LOG_ANNOTATION];
    const mount = destination ? container.spec.mounts?.find((m) => m.destination === destination) : undefined;
    if (!mount?.source) return "";
    try {
      return readFileSync(mount.source).subarray(0, 4096).toString("utf8");
    } catch {
      return "";
    }
  }

  /** DestroySandbox: removes every container, failing if any removal fails. */
  async removeAll(): Promise<void> {
    await Promise.all(this.pod.registry.all().map((c) => this.remove(c.id, 0)));
  }

  /** Agent shutdown: nothing is left running behind us. */
  async shutdown(): Promise<void> {
    await Promise.all(this.pod.registry.all().map((c) => this.remove(c.id, 0).catch(() => {})));
    this.pod.close();
  }

  private onInitExit(container: Container, init: ContainerProcess, status: number): void {
    container.state = "stopped";
    container.stopOomWatch();
    init.exited(status);
    this.pod.log.info("container exited", { container: container.id, status });
  }

  private async destroy(container: Container): Promise<void> {
    const runtime = await this.pod.runtime();
    if (container.state === "paused") await runtime.resume(container.id, container.bundle).catch(() => {});
    if (container.state !== "stopped") {
      await this.pod
        .killAll(container)
        .catch((err: unknown) =>
          this.pod.log.warn("kill before removal failed", { container: container.id, error: err }),
        );
      await waitForExit(container, KILL_WAIT_MS);
    }
    container.stopOomWatch();
    await runtime
      .delete(container.id, container.bundle)
      .catch((err: unknown) =>
        this.pod.log.warn("runtime delete failed", { container: container.id, error: err }),
      );
    for (const proc of container.processes.values()) {
      this.pod.reaper.untrack(proc.pid);
      proc.dispose();
    }
    container.processes.clear();
    await this.pod.options.storage.release(container.id);
    rmSync(container.bundle, { recursive: true, force: true });
    this.pod.registry.remove(container.id);
    this.pod.log.info("container removed", { container: container.id });
  }
}

async function waitForExit(container: Container, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!container.stopped && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}
