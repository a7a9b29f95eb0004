// Container lifecycle: create (devices, storages, spec, bundle, stdio, OCI runtime), start,
// exec, signal, wait, pause/resume, update, stats, remove; the sandbox around them; the
// reaper that collects exit codes and the OOM watcher. RPC handlers call these methods.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { CreateContainerRequest, CreateSandboxRequest, ExecProcessRequest } from "../../gen/agent_pb.js";
import type { LinuxResources } from "../../gen/oci_pb.js";
import {
  AlreadyExistsError,
  InvalidInputError,
  PreconditionError,
  TimedOutError,
} from "../core/domain-error.js";
import type { DeviceManager } from "../devices/index.js";
import type { Logger } from "../log.js";
import { ContainerProcess } from "../processes/process.js";
import { Reaper } from "../processes/reaper.js";
import { type PreparedStdio, prepareStdio } from "../processes/stdio.js";
import { OciRuntime } from "../runtime/oci-runtime.js";
import { SANDBOX_OWNER, type StorageManager } from "../storage/index.js";
import { cgroupPathsOf } from "./cgroups.js";
import { Container, ContainerRegistry } from "./container.js";
import { validateContainerId, validateExecId } from "./ids.js";
import { cgroupsPathFor, setNamespaces } from "./namespaces.js";
import { toProcess, toResources, toRuntimeSpec } from "./oci-spec.js";
import { OomEvents } from "./oom.js";
import { stringifyExact } from "./runtime-spec.js";
import { Sandbox } from "./sandbox.js";
import { readStats } from "./stats.js";

export interface ContainerManagerOptions {
  runDir: string;
  ociRuntime: string;
  containerPipeSize: number;
  inGuest: boolean;
  storage: StorageManager;
  devices: DeviceManager;
  log: Logger;
  /** Called after DestroySandbox has torn everything down: the agent then stops. */
  onSandboxDestroyed?: () => void;
}

const SIGKILL = 9;
const SIGTERM = 15;
/** How long RemoveContainer waits for the init to die after SIGKILL before deleting anyway. */
const KILL_WAIT_MS = 10_000;
/** ReadStdout without a length reads what the runtime asks for (32 KiB); replies stay far below 4 MiB. */
const DEFAULT_READ = 32 << 10;
const MAX_READ = 2 << 20;
const TERMINATION_LOG_ANNOTATION = "io.kubernetes.container.terminationMessagePath";

export class ContainerManager {
  readonly registry = new ContainerRegistry();
  readonly sandbox: Sandbox;
  readonly oom: OomEvents;
  private readonly reaper: Reaper;
  private runtime: Promise<OciRuntime> | undefined;
  private readonly log: Logger;

  constructor(private readonly options: ContainerManagerOptions) {
    this.log = options.log.child({ subsystem: "containers" });
    this.reaper = new Reaper(this.log);
    this.oom = new OomEvents(this.log);
    this.sandbox = new Sandbox(options.runDir, options.inGuest, this.log);
  }

  /** The OCI runtime, resolved on first use so start-up stays quick. */
  ociRuntime(): Promise<OciRuntime> {
    this.runtime ??= OciRuntime.open({
      choice: this.options.ociRuntime,
      stateDir: path.join(this.options.runDir, ".oci-state"),
    }).then((rt) => {
      this.log.info("OCI runtime", { path: rt.path, flavour: rt.flavour, version: rt.version });
      return rt;
    });
    this.runtime.catch(() => {
      this.runtime = undefined;
    });
    return this.runtime;
  }

  // ---- sandbox ----

  async createSandbox(req: CreateSandboxRequest, signal: AbortSignal): Promise<void> {
    if (this.registry.size) {
      throw new PreconditionError("CreateSandbox: containers already exist; call DestroySandbox first");
    }
    mkdirSync(this.options.runDir, { recursive: true });
    await this.options.storage.add(req.storages, SANDBOX_OWNER, signal);
    try {
      await this.sandbox.create(req, signal);
    } catch (err) {
      await this.options.storage.release(SANDBOX_OWNER);
      throw err;
    }
  }

  async destroySandbox(): Promise<void> {
    this.oom.close();
    await Promise.all(this.registry.all().map((c) => this.removeContainer(c.id, 0)));
    await this.options.storage.releaseAll();
    this.sandbox.created = false;
    this.sandbox.owner = undefined;
    this.log.info("sandbox destroyed", { sandbox: this.sandbox.id });
    this.options.onSandboxDestroyed?.();
  }

  // ---- containers ----

  async createContainer(req: CreateContainerRequest, signal: AbortSignal): Promise<void> {
    const id = req.containerId;
    validateContainerId(id);
    if (this.registry.has(id)) throw new AlreadyExistsError("container", `container ${id} already exists`);
    const oci = req.OCI;
    if (!oci) throw badSpec("EINVAL: Invalid argument: CreateContainerRequest carries no OCI spec");
    if (!oci.Linux) throw badSpec("Spec does not contain linux field");
    if (!oci.Process) throw badSpec("EINVAL: Invalid argument: the OCI spec has no process");
    if (!oci.Root?.Path) throw badSpec("EINVAL: Invalid argument: the OCI spec has no root path");
    if (req.sandboxPidns && !this.namespaceHolder() && this.registry.size) {
      throw new PreconditionError(
        "sandbox_pidns requested but the sandbox has no PID namespace: its containers have all exited",
      );
    }
    const runtime = await this.ociRuntime();
    await this.options.devices.resolveDevices(req.devices, oci, signal);
    await this.options.storage.add(req.storages, id, signal);

    const bundle = path.join(this.options.runDir, id);
    let stdio: PreparedStdio | undefined;
    let created = false;
    try {
      const spec = toRuntimeSpec(oci);
      const holder = this.namespaceHolder();
      setNamespaces(spec, holder ? { ownerPid: holder.pid } : {}, req.sandboxPidns);
      spec.linux!.cgroupsPath = cgroupsPathFor(spec.linux?.cgroupsPath, id);
      const hooks = this.sandbox.mergeHooks(spec.hooks);
      if (Object.keys(hooks).length) spec.hooks = hooks;
      rmSync(bundle, { recursive: true, force: true });
      mkdirSync(bundle, { recursive: true, mode: 0o700 });
      writeFileSync(path.join(bundle, "config.json"), stringifyExact(spec));

      const terminal = spec.process?.terminal === true;
      stdio = await prepareStdio({
        terminal,
        dir: bundle,
        name: "init",
        pipeSize: this.options.containerPipeSize,
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
      this.registry.add(container);
      if (!holder) this.sandbox.owner = { containerId: id, pid };
      this.reaper.track(pid, (status) => this.onInitExit(container, init, status.status));
      this.log.info("container created", { container: id, pid, runtime: runtime.flavour });
    } catch (err) {
      stdio?.dispose();
      if (created) await runtime.delete(id, bundle).catch(() => {});
      await this.options.storage.release(id).catch(() => {});
      rmSync(bundle, { recursive: true, force: true });
      throw err;
    }
  }

  async startContainer(id: string): Promise<void> {
    const container = this.registry.get(id);
    if (container.state !== "created") {
      throw new PreconditionError(`container ${id} is ${container.state}, not created: it cannot be started`);
    }
    await (await this.ociRuntime()).start(id, container.bundle);
    if (container.state === "created") container.state = "running";
    container.stopOomWatch = this.oom.watch(id, container.cgroups);
    this.log.info("container started", { container: id });
  }

  async execProcess(req: ExecProcessRequest, signal: AbortSignal): Promise<void> {
    const container = this.registry.get(req.containerId);
    validateExecId(req.execId);
    if (container.processes.has(req.execId)) {
      throw new AlreadyExistsError("process", `exec_id '${req.execId}' already exists`);
    }
    if (!req.process) throw badSpec("EINVAL: Invalid argument: ExecProcessRequest carries no process");
    if (container.state !== "running") {
      throw new PreconditionError(
        `container ${container.id} is ${container.state}: exec needs a running container`,
      );
    }
    const runtime = await this.ociRuntime();
    const processFile = path.join(container.bundle, `exec-${req.execId}.json`);
    writeFileSync(processFile, stringifyExact(toProcess(req.process)));
    const terminal = req.process.Terminal;
    const stdio = await prepareStdio({
      terminal,
      dir: container.bundle,
      name: `exec-${req.execId}`,
      pipeSize: this.options.containerPipeSize,
    });
    try {
      const pid = await runtime.exec(container.id, processFile, stdio.childIo, {
        pidFile: path.join(container.bundle, `exec-${req.execId}.pid`),
        ...(stdio.consoleSocket ? { consoleSocket: stdio.consoleSocket } : {}),
        logFile: path.join(container.bundle, `exec-${req.execId}.log`),
        signal,
      });
      const proc = new ContainerProcess(req.execId, pid, terminal, await stdio.attach());
      container.processes.set(req.execId, proc);
      this.reaper.track(pid, (status) => proc.exited(status.status));
      this.log.info("process started", { container: container.id, exec: req.execId, pid });
    } catch (err) {
      stdio.dispose();
      throw err;
    }
  }

  async signalProcess(containerId: string, execId: string, signal: number): Promise<void> {
    if (execId === "" && signal === SIGKILL) {
      const container = this.registry.get(containerId);
      await this.killAll(container);
      return;
    }
    const container = this.registry.get(containerId);
    const proc = container.process(execId);
    // An init that does not handle SIGTERM would ignore it (it is PID 1 of its namespace).
    const effective =
      proc.execId === container.id && signal === SIGTERM && !handlesSignal(proc.pid, SIGTERM)
        ? SIGKILL
        : signal;
    proc.kill(effective);
  }

  async waitProcess(containerId: string, execId: string, signal: AbortSignal): Promise<number> {
    const container = this.registry.get(containerId);
    const proc = container.process(execId);
    const status = await proc.wait(signal);
    // As upstream, a process waited for is forgotten (a later call answers NOT_FOUND), but
    // output not yet read stays readable until its EOF: a wait racing the reads loses nothing.
    proc.waited = true;
    this.forgetIfDone(container, proc);
    return status;
  }

  async pauseContainer(id: string): Promise<void> {
    const container = this.registry.get(id, "invalid container id");
    if (container.state !== "running" && container.state !== "created") {
      throw new PreconditionError(
        `container ${id} is ${container.state}: only a running container can be paused`,
      );
    }
    await (await this.ociRuntime()).pause(id, container.bundle);
    container.state = "paused";
  }

  async resumeContainer(id: string): Promise<void> {
    const container = this.registry.get(id, "invalid container id");
    if (container.state !== "paused") {
      throw new PreconditionError(`container ${id} is ${container.state}, not paused`);
    }
    await (await this.ociRuntime()).resume(id, container.bundle);
    container.state = "running";
  }

  async updateContainer(id: string, resources: LinuxResources | undefined): Promise<void> {
    const container = this.registry.get(id, "invalid container id");
    if (!resources) return;
    const converted = toResources(resources);
    const file = path.join(container.bundle, "resources.json");
    writeFileSync(file, stringifyExact(converted));
    await (await this.ociRuntime()).update(id, file, container.bundle);
    if (container.spec.linux) container.spec.linux.resources = converted;
  }

  statsContainer(id: string) {
    const container = this.registry.get(id, "invalid container id");
    return { cgroupStats: readStats(container.cgroups), networkStats: [] };
  }

  /**
   * Kills what is left of the container, deletes it and releases its storages. With a timeout
   * (seconds), the caller gets ETIME if that is not enough, and the removal carries on.
   */
  async removeContainer(id: string, timeoutSeconds: number): Promise<void> {
    const container = this.registry.get(id);
    container.removal ??= this.destroy(container);
    if (timeoutSeconds <= 0) return container.removal;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new TimedOutError(`ETIME: Timer expired: container ${id} not removed within ${timeoutSeconds}s`, {
              subject: "removal",
            }),
          ),
        timeoutSeconds * 1000,
      );
    });
    try {
      await Promise.race([container.removal, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  // ---- standard streams ----

  /** ReadStdout / ReadStderr: at most `len` bytes, waiting for some; empty means EOF. */
  async readOutput(
    containerId: string,
    execId: string,
    which: "stdout" | "stderr",
    len: number,
    cancel: () => AbortSignal,
  ): Promise<Uint8Array> {
    const container = this.registry.get(containerId);
    const proc = container.process(execId, true);
    // A terminal has one stream, read through ReadStdout; ReadStderr must not take half of it.
    const stream = which === "stdout" ? proc.streams.stdout : proc.streams.stderr;
    if (!stream) return new Uint8Array(0);
    const data = await stream.read(Math.min(len > 0 ? len : DEFAULT_READ, MAX_READ), cancel);
    if (data.length === 0) this.forgetIfDone(container, proc);
    return data;
  }

  /** WriteStdin: an empty write closes stdin (runtime-rs's convention). */
  async writeStdin(
    containerId: string,
    execId: string,
    data: Uint8Array,
    signal: AbortSignal,
  ): Promise<number> {
    const proc = this.registry.get(containerId).process(execId);
    if (data.length === 0) {
      proc.streams.stdin.close();
      return 0;
    }
    return proc.streams.stdin.write(data, signal);
  }

  closeStdin(containerId: string, execId: string): void {
    this.registry.get(containerId).process(execId).streams.stdin.close();
  }

  resizeTty(containerId: string, execId: string, rows: number, columns: number): void {
    this.registry.get(containerId).process(execId).resizeTerminal(rows, columns);
  }

  /** GetDiagnosticData: the container's termination log, as Kubernetes asked for it. */
  diagnosticData(logType: string, containerId: string): string {
    if (logType !== "termination_log") {
      throw new InvalidInputError(`unsupported diagnostic log_type: ${logType} (only termination_log)`);
    }
    const container = this.registry.get(containerId);
    const destination = container.spec.annotations?.[TERMINATION_LOG_ANNOTATION];
    const mount = destination ? container.spec.mounts?.find((m) => m.destination === destination) : undefined;
    if (!mount?.source) return "";
    try {
      return readFileSync(mount.source).subarray(0, 4096).toString("utf8");
    } catch {
      return "";
    }
  }

  /** Agent shutdown: nothing is left running behind us. */
  async shutdown(): Promise<void> {
    await Promise.all(this.registry.all().map((c) => this.removeContainer(c.id, 0).catch(() => {})));
    this.reaper.close();
  }

  /**
   * The container whose namespaces the pod shares: the first one, or, once it is gone, any
   * live container that joined them. Undefined when the next container starts a new pod.
   */
  private namespaceHolder(): { containerId: string; pid: number } | undefined {
    const alive = (pid: number) => existsSync(`/proc/${pid}/ns/ipc`);
    if (this.sandbox.owner && alive(this.sandbox.owner.pid)) return this.sandbox.owner;
    const next = this.registry.all().find((c) => !c.stopped && alive(c.initPid));
    this.sandbox.owner = next ? { containerId: next.id, pid: next.initPid } : undefined;
    return this.sandbox.owner;
  }

  private forgetIfDone(container: Container, proc: ContainerProcess): void {
    if (!proc.waited || !proc.outputConsumed || container.processes.get(proc.execId) !== proc) return;
    container.processes.delete(proc.execId);
    proc.dispose();
  }

  private onInitExit(container: Container, init: ContainerProcess, status: number): void {
    container.state = "stopped";
    container.stopOomWatch();
    init.exited(status);
    this.log.info("container exited", { container: container.id, status });
  }

  private async killAll(container: Container): Promise<void> {
    if (container.state === "stopped") return;
    const runtime = await this.ociRuntime();
    try {
      await runtime.kill(container.id, SIGKILL, { all: true, logDir: container.bundle });
    } catch (err) {
      // Raced with the container's own exit: nothing left to kill, as ESRCH upstream.
      if (!container.stopped) throw err;
    }
  }

  private async destroy(container: Container): Promise<void> {
    const runtime = await this.ociRuntime();
    if (container.state === "paused") await runtime.resume(container.id, container.bundle).catch(() => {});
    if (container.state !== "stopped") {
      await this.killAll(container).catch((err: unknown) =>
        this.log.warn("kill before removal failed", { container: container.id, error: err }),
      );
      await waitForExit(container, KILL_WAIT_MS);
    }
    container.stopOomWatch();
    await runtime
      .delete(container.id, container.bundle)
      .catch((err: unknown) =>
        this.log.warn("runtime delete failed", { container: container.id, error: err }),
      );
    for (const proc of container.processes.values()) {
      this.reaper.untrack(proc.pid);
      proc.dispose();
    }
    container.processes.clear();
    await this.options.storage.release(container.id);
    rmSync(container.bundle, { recursive: true, force: true });
    this.registry.remove(container.id);
    this.log.info("container removed", { container: container.id });
  }
}

/** A request whose spec lacks what every container needs (upstream answers these INTERNAL). */
function badSpec(message: string): InvalidInputError {
  return new InvalidInputError(message, { subject: "oci-spec" });
}

async function waitForExit(container: Container, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!container.stopped && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}

/** Whether /proc/<pid>/status says the process catches, ignores or blocks `signal`. */
function handlesSignal(pid: number, signal: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const bit = 1n << BigInt(signal - 1);
    return ["SigBlk", "SigIgn", "SigCgt"].some((key) => {
      const mask = new RegExp(`^${key}:\\s*([0-9a-f]+)$`, "m").exec(status)?.[1];
      return mask !== undefined && (BigInt(`0x${mask}`) & bit) !== 0n;
    });
  } catch {
    return true; // gone or unreadable: send what was asked
  }
}
