// How the agent runs a guest tool (iproute2, iptables, mkfs, resize2fs, modprobe, ...): the
// shared runner with the guest's defaults, and ensureOk(), which turns a failed run into a
// domain error with the tool's own last lines, so that the user sees why.

import { CancelledError, RuntimeFailure, TimedOutError } from "../core/domain-error.js";
import { describeEnd, type RunResult, runProgram, stdoutText } from "./run.js";

export interface ToolOptions {
  /** The handler's signal: a cancelled or expired RPC terminates the tool. */
  signal?: AbortSignal;
  /** Milliseconds before the tool is terminated (default DEFAULT_TOOL_TIMEOUT_MS). */
  timeout?: number;
  /** Written to the tool's stdin. */
  input?: Uint8Array | string;
}

/** Every tool gets at most this long unless its module says otherwise. */
export const DEFAULT_TOOL_TIMEOUT_MS = 30_000;

/** Guest tools live in sbin, which the agent's PATH may lack. */
const SBIN_PATH = "/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin";

export function runTool(
  file: string,
  args: readonly string[],
  options: ToolOptions = {},
): Promise<RunResult> {
  return runProgram(file, args, {
    timeoutMs: options.timeout ?? DEFAULT_TOOL_TIMEOUT_MS,
    input: options.input ?? "",
    forceKillAfterMs: 2000,
    // Tools print their messages in English only in the C locale; users read them verbatim.
    env: { LC_ALL: "C", PATH: `${process.env.PATH ?? ""}:${SBIN_PATH}` },
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/**
 * Returns the result when the tool exited 0. Otherwise throws what went wrong: cancelled or
 * timed out when the call went away or the tool took too long, a runtime failure for the rest,
 * with the tool's own last lines after `what` so that the user sees why.
 */
export function ensureOk(result: RunResult, what: string): RunResult {
  if (result.exitCode === 0) return result;
  const tool = result.command.split(" ")[0];
  if (result.isCanceled) throw new CancelledError(`${what}: cancelled (${result.command})`);
  if (result.timedOut) throw new TimedOutError(`${what}: ${result.command} timed out`);
  if (result.spawnError !== undefined)
    throw new RuntimeFailure(
      `${what}: cannot run ${tool}: ${result.spawnError}; is it installed in the guest image?`,
    );
  const output = (result.stderr || stdoutText(result).trim()).split("\n").slice(-8).join(" | ");
  const status = `${tool} ${describeEnd(result)}`;
  throw new RuntimeFailure(`${what}: ${status}${output ? `: ${output}` : ""}`);
}
