// GNU make on a kernel tree, always out of tree (O=) with output appended to a log file: a
// kernel build prints tens of thousands of lines, which belong in a file the error can point
// at, not in memory or on the terminal.
import { appendFile, open, readFile, stat } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { execa } from "execa";
import { requireTool } from "../util/host-tools.js";
import { statFields } from "../util/proc-stat.js";
import type { ToolResult } from "./run.js";

export interface MakeOptions {
  /** Kernel source tree (make -C). */
  srcDir: string;
  /** Object directory (O=). */
  objDir: string;
  /** make's ARCH, e.g. x86_64. */
  arch: string;
  targets: readonly string[];
  /** Extra make variables, e.g. { KCONFIG_ALLCONFIG: "/path" }. */
  vars?: Record<string, string>;
  jobs?: number;
  /** Output of make is appended here. */
  logPath: string;
  cancelSignal?: AbortSignal;
  /** Milliseconds. */
  timeout?: number;
}

/** A run's outcome as every tool reports it; make's output is in the log, not here. */
export interface MakeResult
  extends Pick<ToolResult, "command" | "exitCode" | "timedOut" | "isCanceled" | "ok"> {
  seconds: number;
  /** CPU time (user + system) of make and everything it ran; undefined off Linux. */
  cpuSeconds?: number;
  logPath: string;
}

/**
 * CPU seconds used so far by this process's waited-for children (cutime + cstime from
 * /proc/self/stat, in USER_HZ = 100 ticks). Differences around one make run give that run's
 * total CPU time, which unlike wall time does not depend on what else the machine is doing.
 */
async function childCpuSeconds(): Promise<number | undefined> {
  const stat = await readFile("/proc/self/stat", "utf8").catch(() => undefined);
  if (!stat) return undefined;
  const fields = statFields(stat);
  // cutime and cstime are fields 16 and 17 of proc(5).
  return (Number(fields[16 - 3]) + Number(fields[17 - 3])) / 100;
}

export async function runMake(options: MakeOptions): Promise<MakeResult> {
  const make = requireTool("make", "build the kernel");
  requireTool("gcc", "build the kernel");
  const args = [
    "-C",
    options.srcDir,
    `O=${options.objDir}`,
    `ARCH=${options.arch}`,
    ...(options.jobs ? [`-j${options.jobs}`] : []),
    ...Object.entries(options.vars ?? {}).map(([k, v]) => `${k}=${v}`),
    ...options.targets,
  ];
  const command = `make ${args.join(" ")}`;
  await appendFile(options.logPath, `\n### ${new Date().toISOString()} ${command}\n`);
  const log = { file: options.logPath, append: true } as const;
  const started = performance.now();
  const cpuBefore = await childCpuSeconds();
  const result = await execa(make, args, {
    reject: false,
    stdin: "ignore",
    stdout: log,
    stderr: log,
    // Kernel builds read these from the environment; keep the host's out of it.
    env: { KCONFIG_CONFIG: undefined, KBUILD_OUTPUT: undefined, LC_ALL: "C" },
    extendEnv: true,
    cancelSignal: options.cancelSignal,
    timeout: options.timeout,
    cleanup: true,
    forceKillAfterDelay: 5000,
  });
  const cpuAfter = await childCpuSeconds();
  return {
    command,
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    isCanceled: result.isCanceled,
    ok: result.exitCode === 0 && !result.timedOut && !result.isCanceled,
    seconds: (performance.now() - started) / 1000,
    ...(cpuBefore !== undefined && cpuAfter !== undefined ? { cpuSeconds: cpuAfter - cpuBefore } : {}),
    logPath: options.logPath,
  };
}

/** Why a make run failed: "timed out", "was cancelled", or what `exited` says of its exit code. */
export function whyFailed(result: MakeResult, exited: (code: number | undefined) => string): string {
  return result.timedOut ? "timed out" : result.isCanceled ? "was cancelled" : exited(result.exitCode);
}

/** The last `count` lines of a log file (reads at most the last 64 KiB). */
export async function logTail(path: string, count = 25): Promise<string[]> {
  const size = (await stat(path)).size;
  const length = Math.min(size, 64 * 1024);
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString("utf8").trimEnd().split("\n").slice(-count);
  } finally {
    await handle.close();
  }
}

/** How many compile steps (`  CC  path`) a build log shows, for progress lines. */
export async function compiledCount(path: string): Promise<{ count: number; last?: string }> {
  const text = await readFile(path, "utf8").catch(() => "");
  const lines = text.match(/^ {2}CC\s+\S+$/gm) ?? [];
  const last = lines[lines.length - 1]?.trim().replace(/^CC\s+/, "");
  return last ? { count: lines.length, last } : { count: lines.length };
}
