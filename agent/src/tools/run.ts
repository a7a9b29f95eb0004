// The one way the agent and the builder run an external program: execa with reject:false, so a
// run always ends in a typed result and callers branch on exitCode / timedOut / isCanceled /
// spawnError, never on stderr text (stderr is kept to show the user). Each side maps a failed
// result to its own errors (agent: tools/tool.ts; builder: builder/src/tools/run.ts).
//
// execa is loaded on first use: parsing it and the Node modules it pulls in is a large share of
// the agent's start-up (seconds under TCG emulation), and nothing needs it before the first RPC
// that runs a program; Health.Check must not wait for it. This file imports nothing else of the
// agent, so the builder can share it.

/** Where a child's standard stream goes: captured ("pipe"), nowhere, or an open fd of ours. */
export type StdioTarget = "pipe" | "ignore" | number;

export interface RunOptions {
  cwd?: string;
  /** Added to the inherited environment. */
  env?: Record<string, string | undefined>;
  /**
   * Milliseconds before the program is terminated; 0, undefined, or more than a timer can hold
   * (2^31-1 ms, about 24.8 days): no limit.
   */
  timeoutMs?: number;
  /** Aborting it terminates the program (and one already aborted starts nothing). */
  signal?: AbortSignal;
  /** Written to the program's stdin, which is then closed. */
  input?: Uint8Array | string;
  /** Defaults: stdin per `input`, stdout and stderr captured. */
  stdio?: { stdin?: StdioTarget; stdout?: StdioTarget; stderr?: StdioTarget };
  /** Captured output beyond this many bytes fails the run. Default 64 MiB. */
  maxBuffer?: number;
  /** The signal that terminates it on timeout or cancel (default SIGTERM) ... */
  killSignal?: NodeJS.Signals;
  /** ... followed by SIGKILL this many ms later if it is still there. Default 5000. */
  forceKillAfterMs?: number;
}

export interface RunResult {
  /** "ip -json link show": the program and its arguments, for messages. */
  command: string;
  /** Undefined when the program could not be started or was killed. */
  exitCode: number | undefined;
  /** The signal that ended it, if one did. */
  signal: string | undefined;
  timedOut: boolean;
  isCanceled: boolean;
  /** Why the program could not be started (e.g. "spawn ip ENOENT"), if that happened. */
  spawnError: string | undefined;
  /** Captured stdout, byte for byte (empty unless stdout is "pipe"). */
  stdout: Uint8Array;
  /** Captured stderr as text, for the user (trailing white space dropped). */
  stderr: string;
}

let loading: Promise<typeof import("execa")> | undefined;

/** setTimeout's longest delay: a longer one would fire after 1 ms instead of never. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Programs running at once. Each costs a process (`ip` about 3 MB, runc tens): a client
 * pipelining a thousand calls that each run one must not start a thousand at the same time.
 * Further runs wait their turn; a run whose caller goes away while it waits starts nothing.
 */
const MAX_RUNNING = 16;
let running = 0;
const waiting: (() => void)[] = [];

/** Resolves true once a slot is free, or false if `signal` aborts first. */
function acquire(signal: AbortSignal | undefined): Promise<boolean> {
  if (running < MAX_RUNNING) {
    running++;
    return Promise.resolve(true);
  }
  return new Promise((resolve) => {
    const onAbort = () => {
      const i = waiting.indexOf(grant);
      if (i >= 0) waiting.splice(i, 1);
      resolve(false);
    };
    const grant = () => {
      signal?.removeEventListener("abort", onAbort);
      running++;
      resolve(true);
    };
    waiting.push(grant);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function release(): void {
  running--;
  waiting.shift()?.();
}

export async function runProgram(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const command = [file, ...args].join(" ");
  const canceled: RunResult = {
    command,
    exitCode: undefined,
    signal: undefined,
    timedOut: false,
    isCanceled: true,
    spawnError: undefined,
    stdout: new Uint8Array(),
    stderr: "",
  };
  // A call that has already gone away (e.g. while queued behind another change) starts nothing.
  if (options.signal?.aborted) return canceled;
  if (!(await acquire(options.signal))) return canceled;
  try {
    return await runNow(file, args, command, options);
  } finally {
    release();
  }
}

async function runNow(
  file: string,
  args: readonly string[],
  command: string,
  options: RunOptions,
): Promise<RunResult> {
  loading ??= import("execa");
  const { execa } = await loading;
  const stdio = options.stdio ?? {};
  // execa hands a single fd number straight to child_process (its types only list fds 0-9).
  const target = (t: StdioTarget | undefined) => t as "pipe" | "ignore" | undefined;
  const result = await execa(file, args, {
    reject: false,
    cleanup: true,
    encoding: "buffer",
    stripFinalNewline: false,
    maxBuffer: options.maxBuffer ?? 64 * 1024 * 1024,
    forceKillAfterDelay: options.forceKillAfterMs ?? 5000,
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...(options.timeoutMs && options.timeoutMs > 0 && options.timeoutMs <= MAX_TIMER_MS
      ? { timeout: options.timeoutMs }
      : {}),
    ...(options.signal ? { cancelSignal: options.signal } : {}),
    ...(options.killSignal ? { killSignal: options.killSignal } : {}),
    ...(options.input !== undefined ? { input: options.input } : {}),
    ...(stdio.stdin !== undefined ? { stdin: target(stdio.stdin) } : {}),
    ...(stdio.stdout !== undefined ? { stdout: target(stdio.stdout) } : {}),
    ...(stdio.stderr !== undefined ? { stderr: target(stdio.stderr) } : {}),
  });
  const started = result.exitCode !== undefined || result.signal !== undefined;
  return {
    command,
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: result.timedOut,
    isCanceled: result.isCanceled,
    spawnError: started ? undefined : (result.originalMessage ?? result.shortMessage),
    stdout: bytes(result.stdout),
    stderr: Buffer.from(bytes(result.stderr)).toString("utf8").trimEnd(),
  };
}

/** How a run that did not succeed ended, in words: "exited with status 2", "was killed by SIGKILL", ... */
export function describeEnd(
  result: Pick<RunResult, "exitCode" | "signal" | "timedOut" | "isCanceled" | "spawnError">,
): string {
  if (result.timedOut) return "timed out";
  if (result.isCanceled) return "was cancelled";
  if (result.spawnError !== undefined) return `could not be started (${result.spawnError})`;
  if (result.exitCode !== undefined) return `exited with status ${result.exitCode}`;
  // Killed by a signal it did not catch (the OOM killer's SIGKILL, say): no exit status at all.
  if (result.signal) return `was killed by ${result.signal}`;
  return "ended without an exit status";
}

/** A run's stdout as text. */
export function stdoutText(result: Pick<RunResult, "stdout">): string {
  return Buffer.from(result.stdout).toString("utf8");
}

/** execa's captured output: bytes when piped, undefined when not captured. */
function bytes(value: unknown): Uint8Array {
  return value instanceof Uint8Array ? value : new Uint8Array();
}
