// The OCI runtime's hot path: run a program whose standard streams are fds of ours (or nothing)
// and wait for its exit, with node's own child_process.spawn. Each container start runs the
// runtime twice (create, start); the shared runner (run.ts, execa) spends 1-3 ms per call on
// option handling and stream plumbing before the program even starts, which this path has no
// use for: it captures no output (the runtime writes its messages to a --log file), so a spawn,
// a timer and the exit event are all it needs. Tools whose output the agent reads stay on run.ts.
import { spawn } from "node:child_process";
import type { RunResult, StdioTarget } from "./run.js";

export interface SpawnOptions {
  /** Where the child's streams go: nowhere, or an open fd of ours ("pipe" is not offered). */
  stdio?: {
    stdin?: Exclude<StdioTarget, "pipe">;
    stdout?: Exclude<StdioTarget, "pipe">;
    stderr?: Exclude<StdioTarget, "pipe">;
  };
  /** Milliseconds before the program is sent SIGTERM, then SIGKILL 5 s later; 0: no limit. */
  timeoutMs?: number;
  /** Aborting it terminates the program the same way (and one already aborted starts nothing). */
  signal?: AbortSignal;
}

const FORCE_KILL_AFTER_MS = 5000;

/** Runs `file` with `args` to its exit; never rejects (a failure is in the result). */
export function spawnAndWait(
  file: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Promise<RunResult> {
  const command = [file, ...args].join(" ");
  const result = (fields: Partial<RunResult>): RunResult => ({
    command,
    exitCode: undefined,
    signal: undefined,
    timedOut: false,
    isCanceled: false,
    spawnError: undefined,
    stdout: new Uint8Array(),
    stderr: "",
    ...fields,
  });
  if (options.signal?.aborted) return Promise.resolve(result({ isCanceled: true }));
  const io = options.stdio ?? {};
  return new Promise((resolve) => {
    let timedOut = false;
    let canceled = false;
    let forceKill: NodeJS.Timeout | undefined;
    const child = spawn(file, args, {
      stdio: [io.stdin ?? "ignore", io.stdout ?? "ignore", io.stderr ?? "ignore"],
    });
    const terminate = () => {
      child.kill("SIGTERM");
      forceKill ??= setTimeout(() => child.kill("SIGKILL"), FORCE_KILL_AFTER_MS);
    };
    const timer =
      options.timeoutMs && options.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            terminate();
          }, options.timeoutMs)
        : undefined;
    const onAbort = () => {
      canceled = true;
      terminate();
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    let settled = false;
    // 'exit' may or may not follow an 'error': the first one settles.
    const settle = (fields: Partial<RunResult>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(forceKill);
      options.signal?.removeEventListener("abort", onAbort);
      resolve(result({ timedOut, isCanceled: canceled, ...fields }));
    };
    // An exec failure (ENOENT, EACCES) comes as 'error' without an exit.
    child.once("error", (err) =>
      settle({ spawnError: `spawn ${file} ${(err as NodeJS.ErrnoException).code ?? err.message}` }),
    );
    child.once("exit", (code, signal) =>
      settle({ ...(code !== null ? { exitCode: code } : {}), ...(signal !== null ? { signal } : {}) }),
    );
  });
}
