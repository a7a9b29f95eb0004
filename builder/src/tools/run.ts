// The one way the builder runs an external program: the runner it shares with the agent
// (agent/src/tools/run.ts: execa with reject:false), with the program found on the host first
// (requireTool names the Debian package when it is missing), its output as text, and check() to
// turn a failed run into a BuildError. Callers branch on exitCode / timedOut / isCanceled.
import { describeEnd, runProgram, stdoutText } from "../../../agent/src/tools/run.js";
import { BuildError } from "../util/errors.js";
import { requireTool } from "../util/host-tools.js";

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Milliseconds; the process is terminated after it. */
  timeout?: number;
  cancelSignal?: AbortSignal;
  /** Written to the program's stdin. */
  input?: string | Buffer;
  /** Keep stdout as a Buffer instead of text. */
  binary?: boolean;
}

export interface ToolResult {
  command: string;
  exitCode: number | undefined;
  /** The signal that ended it, when one did (then there is no exit code). */
  signal?: string | undefined;
  /** Why it could not be started, when it could not. */
  spawnError?: string | undefined;
  timedOut: boolean;
  isCanceled: boolean;
  stdout: string;
  stderr: string;
  ok: boolean;
}

export async function runTool(
  tool: string,
  purpose: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<ToolResult> {
  const file = requireTool(tool, purpose);
  const result = await runProgram(file, args, {
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...(options.timeout !== undefined ? { timeoutMs: options.timeout } : {}),
    ...(options.cancelSignal !== undefined ? { signal: options.cancelSignal } : {}),
    ...(options.input !== undefined ? { input: options.input } : {}),
    maxBuffer: 256 * 1024 * 1024,
    // A tool that is interrupted must not outlive the builder (SIGKILL 5 s after SIGTERM).
    forceKillAfterMs: 5000,
  });
  return {
    command: [tool, ...args].join(" "),
    exitCode: result.exitCode,
    signal: result.signal,
    spawnError: result.spawnError,
    timedOut: result.timedOut,
    isCanceled: result.isCanceled,
    stdout: stdoutText(result),
    stderr: result.stderr,
    ok: result.exitCode === 0 && !result.timedOut && !result.isCanceled,
  };
}

/** The last lines of a failed tool's output, for the error message. */
export function tail(text: string, lines = 15): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n    ");
}

/** How a failed run ended: "exited with status 2", "was killed by SIGKILL", "timed out", ... */
export function describeResult(result: ToolResult): string {
  return describeEnd({
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: result.timedOut,
    isCanceled: result.isCanceled,
    spawnError: result.spawnError,
  });
}

/** Throws a BuildError describing a failed run; returns the result when it succeeded. */
export function check(result: ToolResult, what: string, hint?: string): ToolResult {
  if (result.ok) return result;
  const why = describeResult(result);
  const output = tail(result.stderr || result.stdout);
  throw new BuildError(
    `${what}: ${result.command.split(" ")[0]} ${why}${output ? `\n    ${output}` : ""}`,
    hint,
  );
}
