// The OCI runtime (crun or runc), one typed method per command, each run to completion (the
// container's processes outlive the runtime's own: they are re-parented to the agent, which
// reaps them); the commands of a container's life go through tools/spawn.ts, the direct path.
// The runtime writes its own messages to a log file (--log, JSON), because the container's stdio
// is handed straight through to the container; failures carry the runtime's message.
import { readFileSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PreconditionError, RuntimeFailure } from "../core/domain-error.js";
import { describeEnd, runProgram, type StdioTarget, stdoutText } from "../tools/run.js";
import { spawnAndWait } from "../tools/spawn.js";
import { cgroupLayout, crunRefusal } from "./cgroup-layout.js";
import { EXEC_FIFO, releaseInit } from "./exec-fifo.js";
import { findExecutable } from "./find.js";
import { knownFix } from "./known-problems.js";

export type RuntimeFlavour = "crun" | "runc";

export interface OciRuntimeOptions {
  /** "crun", "runc", a path, or "auto" (crun when installed and able to run here, else runc). */
  choice: string;
  /** Where the runtime keeps container state (--root). */
  stateDir: string;
}

export interface Stdio {
  stdin: Exclude<StdioTarget, "pipe">;
  stdout: Exclude<StdioTarget, "pipe">;
  stderr: Exclude<StdioTarget, "pipe">;
}

export class OciRuntime {
  private constructor(
    readonly path: string,
    readonly flavour: RuntimeFlavour,
    readonly version: string,
    private readonly stateDir: string,
    /** runc itself, not another runtime with runc's command line: its `start` is exec-fifo.ts. */
    private readonly isRunc: boolean,
    /** Set when `auto` passed over crun: why it cannot run containers on this host. */
    readonly passedOver?: string,
  ) {}

  /** Resolves the configured runtime and asks it for its version. */
  static async open(options: OciRuntimeOptions): Promise<OciRuntime> {
    const { path, passedOver } = resolveRuntime(options.choice);
    const result = await runProgram(path, ["--version"], { timeoutMs: 10_000 });
    if (result.exitCode !== 0) {
      const why = result.stderr || `it ${describeEnd(result)}`;
      throw new PreconditionError(
        `OCI runtime ${path} does not run (${why}); set agent.oci_runtime to crun, runc or a working path`,
      );
    }
    const first = stdoutText(result).split("\n")[0] ?? "";
    const flavour: RuntimeFlavour = /\bcrun\b/.test(first) ? "crun" : "runc";
    const version = /version\s+(\S+)/.exec(first)?.[1] ?? "unknown";
    const isRunc = /^runc version /.test(first);
    return new OciRuntime(path, flavour, version, options.stateDir, isRunc, passedOver);
  }

  /** Creates the container; its init waits until start(). Returns the init pid. */
  async create(
    id: string,
    bundle: string,
    io: Stdio,
    options: { pidFile: string; consoleSocket?: string; signal?: AbortSignal },
  ): Promise<number> {
    const args = ["create", "--bundle", bundle, "--pid-file", options.pidFile];
    if (options.consoleSocket) args.push("--console-socket", options.consoleSocket);
    // pivot_root(2) cannot leave the initial ramfs: from an initrd guest the runtime must
    // move the container's root into place instead (as Kata's agent does there).
    if (rootIsInitramfs()) args.push("--no-pivot");
    await this.run([...args, id], {
      io,
      logFile: `${bundle}/runtime.log`,
      what: `create container ${id}`,
      signal: options.signal,
    });
    return readPid(options.pidFile);
  }

  /**
   * Lets the created container's init exec its process. For runc the agent does what `runc
   * start` does (exec-fifo.ts) unless the spec has poststart hooks, which newer runc runs in
   * `start`; when runc's FIFO is not where runc keeps it, and for other runtimes, it runs `start`.
   * Returns which of the two it did (for the log).
   */
  async start(
    id: string,
    logDir: string,
    options: { poststartHooks: boolean; initExit: Promise<unknown> },
  ): Promise<"exec fifo" | `${RuntimeFlavour} start`> {
    if (this.isRunc && !options.poststartHooks) {
      const fifo = join(this.stateDir, id, EXEC_FIFO);
      const released = await releaseInit(fifo, {
        container: id,
        initExit: options.initExit,
        timeoutMs: 60_000,
      });
      if (released) return "exec fifo";
    }
    await this.run(["start", id], { logFile: `${logDir}/runtime.log`, what: `start container ${id}` });
    return `${this.flavour} start`;
  }

  /** Runs a new process in the container and leaves it running; returns its pid. */
  async exec(
    id: string,
    processFile: string,
    io: Stdio,
    options: { pidFile: string; consoleSocket?: string; logFile: string; signal?: AbortSignal },
  ): Promise<number> {
    const args = ["exec", "--detach", "--pid-file", options.pidFile, "--process", processFile];
    if (options.consoleSocket) args.push("--console-socket", options.consoleSocket);
    await this.run([...args, id], {
      io,
      logFile: options.logFile,
      what: `exec in container ${id}`,
      signal: options.signal,
    });
    return readPid(options.pidFile);
  }

  /** Signals the init process, or every process of the container with `all`. */
  async kill(id: string, signal: number, options: { all?: boolean; logDir: string }): Promise<void> {
    await this.run(["kill", ...(options.all ? ["--all"] : []), id, String(signal)], {
      logFile: `${options.logDir}/runtime.log`,
      what: `signal container ${id}`,
    });
  }

  async pause(id: string, logDir: string): Promise<void> {
    await this.run(["pause", id], { logFile: `${logDir}/runtime.log`, what: `pause container ${id}` });
  }

  async resume(id: string, logDir: string): Promise<void> {
    await this.run(["resume", id], { logFile: `${logDir}/runtime.log`, what: `resume container ${id}` });
  }

  /** Applies new resources (a runtime-spec linux.resources object in a JSON file). */
  async update(id: string, resourcesFile: string, logDir: string): Promise<void> {
    await this.run(["update", "--resources", resourcesFile, id], {
      logFile: `${logDir}/runtime.log`,
      what: `update container ${id}`,
    });
  }

  async delete(id: string, logDir: string): Promise<void> {
    await this.run(["delete", "--force", id], {
      logFile: `${logDir}/runtime.log`,
      what: `delete container ${id}`,
    });
  }

  private async run(
    args: string[],
    options: { io?: Stdio; logFile: string; what: string; signal?: AbortSignal | undefined },
  ): Promise<void> {
    const io = options.io ?? { stdin: "ignore", stdout: "ignore", stderr: "ignore" };
    // Small files, on the path of every container start: synchronous calls skip a thread-pool
    // round trip, which a busy pool (a large copy, say) can stretch to milliseconds.
    rmSync(options.logFile, { force: true });
    const result = await spawnAndWait(
      this.path,
      ["--root", this.stateDir, "--log", options.logFile, "--log-format", "json", ...args],
      { stdio: io, timeoutMs: 60_000, ...(options.signal ? { signal: options.signal } : {}) },
    );
    if (result.exitCode === 0) return;
    const message = await runtimeError(options.logFile);
    const fix = message ? knownFix(message) : undefined;
    throw new RuntimeFailure(
      `${this.flavour} failed to ${options.what}: ${message || `${this.flavour} ${describeEnd(result)}`}${fix ? `; ${fix}` : ""}`,
    );
  }
}

let initramfs: boolean | undefined;

/** Whether / is the kernel's initial ramfs (an initrd guest never switches root). */
export function rootIsInitramfs(mountinfo = "/proc/self/mountinfo"): boolean {
  if (initramfs !== undefined) return initramfs;
  try {
    const root = readFileSync(mountinfo, "utf8")
      .split("\n")
      .find((line) => line.split(" ")[4] === "/");
    const fstype = root?.split(" - ")[1]?.split(" ")[0];
    initramfs = fstype === "rootfs";
  } catch {
    initramfs = false;
  }
  return initramfs;
}

function resolveRuntime(choice: string): { path: string; passedOver?: string } {
  if (choice.includes("/")) return { path: choice };
  if (choice === "auto") return autoRuntime();
  const found = findExecutable(choice);
  if (!found) throw new PreconditionError(`OCI runtime '${choice}' is not installed (agent.oci_runtime)`);
  return { path: found };
}

/** crun when it is installed and can run containers on this host's cgroup layout, else runc. */
function autoRuntime(): { path: string; passedOver?: string } {
  const crun = findExecutable("crun");
  const runc = findExecutable("runc");
  if (crun) {
    const refusal = crunRefusal(cgroupLayout());
    if (!refusal) return { path: crun };
    if (runc) return { path: runc, passedOver: refusal };
    throw new PreconditionError(
      `crun is the only OCI runtime installed, and ${refusal}: install runc, or run the agent where /sys/fs/cgroup is cgroup v2 only`,
    );
  }
  if (runc) return { path: runc };
  throw new PreconditionError("no OCI runtime found: install crun or runc, or set agent.oci_runtime");
}

function readPid(file: string): number {
  const pid = Number(readFileSync(file, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new RuntimeFailure(`the OCI runtime wrote no pid to ${file}`);
  return pid;
}

/** The runtime's own error lines from its JSON log (runc: {"level":"error","msg":...}). */
async function runtimeError(logFile: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(logFile, "utf8");
  } catch {
    return "";
  }
  const messages: string[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const record = JSON.parse(line) as { level?: string; msg?: string };
      if (record.level === "error" || record.level === "fatal") messages.push(record.msg ?? line);
    } catch {
      messages.push(line.trim());
    }
  }
  return messages.join("; ");
}
