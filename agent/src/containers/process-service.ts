// Processes of containers: exec, signal, wait, and their standard streams (ReadStdout/ReadStderr,
// WriteStdin, CloseStdin, TtyWinResize). A process is addressed by container id and exec id; ""
// and the container id both name the init process.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ExecProcessRequest } from "../../gen/agent_pb.js";
import { AlreadyExistsError, PreconditionError } from "../core/domain-error.js";
import { ContainerProcess } from "../processes/process.js";
import { prepareStdio } from "../processes/stdio.js";
import type { Container } from "./container.js";
import { badSpec, validateExecId } from "./ids.js";
import { toProcess } from "./oci-spec.js";
import type { Pod } from "./pod.js";
import { stringifyExact } from "./runtime-spec.js";

const SIGKILL = 9;
const SIGTERM = 15;
/** ReadStdout without a length reads what the runtime asks for (32 KiB); replies stay far below 4 MiB. */
const DEFAULT_READ = 32 << 10;
const MAX_READ = 2 << 20;

export class ProcessService {
  constructor(private readonly pod: Pod) {}

  async exec(req: ExecProcessRequest, signal: AbortSignal): Promise<void> {
    const container = this.pod.registry.get(req.containerId);
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
    const runtime = await this.pod.runtime();
    const processFile = path.join(container.bundle, `exec-${req.execId}.json`);
    writeFileSync(processFile, stringifyExact(toProcess(req.process)));
    const terminal = req.process.Terminal;
    const stdio = await prepareStdio({
      terminal,
      dir: container.bundle,
      name: `exec-${req.execId}`,
      pipeSize: this.pod.options.containerPipeSize,
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
      this.pod.reaper.track(pid, (status) => proc.exited(status.status));
      this.pod.log.info("process started", { container: container.id, exec: req.execId, processPid: pid });
    } catch (err) {
      stdio.dispose();
      throw err;
    }
  }

  async signal(containerId: string, execId: string, signal: number): Promise<void> {
    if (execId === "" && signal === SIGKILL) {
      const container = this.pod.registry.get(containerId);
      await this.pod.killAll(container);
      return;
    }
    const container = this.pod.registry.get(containerId);
    const proc = container.process(execId);
    // An init that does not handle SIGTERM would ignore it (it is PID 1 of its namespace).
    const effective =
      proc.execId === container.id && signal === SIGTERM && !handlesSignal(proc.pid, SIGTERM)
        ? SIGKILL
        : signal;
    proc.kill(effective);
  }

  async wait(containerId: string, execId: string, signal: AbortSignal): Promise<number> {
    const container = this.pod.registry.get(containerId);
    const proc = container.process(execId);
    const status = await proc.wait(signal);
    // As upstream, a process waited for is forgotten (a later call answers NOT_FOUND), but
    // output not yet read stays readable until its EOF: a wait racing the reads loses nothing.
    proc.waited = true;
    this.forgetIfDone(container, proc);
    return status;
  }

  /** ReadStdout / ReadStderr: at most `len` bytes, waiting for some; empty means EOF. */
  async readOutput(
    containerId: string,
    execId: string,
    which: "stdout" | "stderr",
    len: number,
    cancel: () => AbortSignal,
  ): Promise<Uint8Array> {
    const container = this.pod.registry.get(containerId);
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
    const proc = this.pod.registry.get(containerId).process(execId);
    if (data.length === 0) {
      proc.streams.stdin.close();
      return 0;
    }
    return proc.streams.stdin.write(data, signal);
  }

  closeStdin(containerId: string, execId: string): void {
    this.pod.registry.get(containerId).process(execId).streams.stdin.close();
  }

  resizeTty(containerId: string, execId: string, rows: number, columns: number): void {
    this.pod.registry.get(containerId).process(execId).resizeTerminal(rows, columns);
  }

  private forgetIfDone(container: Container, proc: ContainerProcess): void {
    if (!proc.waited || !proc.outputConsumed || container.processes.get(proc.execId) !== proc) return;
    container.processes.delete(proc.execId);
    proc.dispose();
  }
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
