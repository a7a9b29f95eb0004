// How the network manager runs iproute2 and iptables: execa with reject:false, so each tool
// module returns a typed result and its caller branches on exitCode / isCanceled / timedOut.
// stderr is only ever shown to the caller, never parsed.

import { Code } from "../../core/code.js";
import { AgentError } from "../../core/error.js";
import { execa } from "../../util/exec.js";

export interface RunOptions {
  /** The handler's signal: a cancelled or expired RPC terminates the tool. */
  signal?: AbortSignal;
  /** Milliseconds before the tool is terminated. */
  timeout?: number;
  /** Written to the tool's stdin. */
  input?: Uint8Array | string;
}

export interface ToolResult {
  /** "ip -json link show", for messages. */
  command: string;
  /** Undefined when the tool could not be started or was killed. */
  exitCode: number | undefined;
  isCanceled: boolean;
  timedOut: boolean;
  /** Why the tool could not be started (e.g. "spawn ip ENOENT"), if that happened. */
  spawnError: string | undefined;
  stdout: Uint8Array;
  stderr: string;
}

/** Every tool gets at most this long, whatever the RPC deadline says. */
export const DEFAULT_TOOL_TIMEOUT_MS = 30_000;

export async function runTool(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<ToolResult> {
  const command = [file, ...args].join(" ");
  // A call that has already gone away (e.g. while queued behind another change) starts nothing.
  if (options.signal?.aborted)
    return {
      command,
      exitCode: undefined,
      isCanceled: true,
      timedOut: false,
      spawnError: undefined,
      stdout: new Uint8Array(),
      stderr: "",
    };
  const result = await execa(file, args, {
    reject: false,
    cancelSignal: options.signal,
    timeout: options.timeout ?? DEFAULT_TOOL_TIMEOUT_MS,
    input: options.input ?? "",
    encoding: "buffer",
    stripFinalNewline: false,
    maxBuffer: 64 * 1024 * 1024,
    cleanup: true,
    forceKillAfterDelay: 2000,
    // Tools print their messages in English only in the C locale; users read them verbatim.
    env: { LC_ALL: "C" },
  });
  const started = result.exitCode !== undefined || result.signal !== undefined;
  return {
    command,
    exitCode: result.exitCode,
    isCanceled: result.isCanceled,
    timedOut: result.timedOut,
    spawnError: started ? undefined : (result.originalMessage ?? result.shortMessage),
    stdout: result.stdout,
    stderr: Buffer.from(result.stderr).toString("utf8").trim(),
  };
}

/** The tool's stdout as text. */
export function stdoutText(result: ToolResult): string {
  return Buffer.from(result.stdout).toString("utf8");
}

/**
 * Returns the result when the tool exited 0. Otherwise throws the AgentError the RPC answers:
 * CANCELLED or DEADLINE_EXCEEDED when the call went away, INTERNAL (as upstream) for the rest,
 * with the tool's own message after `what` so that the user sees why.
 */
export function ensureOk(result: ToolResult, what: string): ToolResult {
  if (result.exitCode === 0) return result;
  if (result.isCanceled) throw new AgentError(Code.Cancelled, `${what}: cancelled (${result.command})`);
  if (result.timedOut) throw new AgentError(Code.DeadlineExceeded, `${what}: ${result.command} timed out`);
  if (result.spawnError !== undefined)
    throw new AgentError(
      Code.Internal,
      `${what}: cannot run ${result.command.split(" ")[0]}: ${result.spawnError}; is it installed in the guest image?`,
    );
  const detail = result.stderr || `exit status ${result.exitCode ?? "unknown"}`;
  throw new AgentError(Code.Internal, `${what}: ${detail}`);
}
