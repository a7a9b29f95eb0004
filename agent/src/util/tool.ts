// How managers run an external program (iproute2, iptables, mkfs, resize2fs, ...): execa with
// reject:false, so each tool module returns a typed result and its caller branches on it or
// hands it to ensureOk(). stderr is shown to the user verbatim, never parsed.
import { Code } from "../core/code.js";
import { AgentError } from "../core/error.js";
import { execa } from "./exec.js";

export interface ToolOptions {
  /** The handler's signal: a cancelled or expired RPC terminates the tool. */
  signal?: AbortSignal;
  /** Milliseconds before the tool is terminated (default DEFAULT_TOOL_TIMEOUT_MS). */
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

/** Every tool gets at most this long unless its module says otherwise. */
export const DEFAULT_TOOL_TIMEOUT_MS = 30_000;

/** Guest tools live in sbin, which the agent's PATH may lack. */
const SBIN_PATH = "/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin";

export async function runTool(
  file: string,
  args: readonly string[],
  options: ToolOptions = {},
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
    env: { LC_ALL: "C", PATH: `${process.env.PATH ?? ""}:${SBIN_PATH}` },
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
 * with the tool's own last lines after `what` so that the user sees why.
 */
export function ensureOk(result: ToolResult, what: string): ToolResult {
  if (result.exitCode === 0) return result;
  const tool = result.command.split(" ")[0];
  if (result.isCanceled) throw new AgentError(Code.Cancelled, `${what}: cancelled (${result.command})`);
  if (result.timedOut) throw new AgentError(Code.DeadlineExceeded, `${what}: ${result.command} timed out`);
  if (result.spawnError !== undefined)
    throw new AgentError(
      Code.Internal,
      `${what}: cannot run ${tool}: ${result.spawnError}; is it installed in the guest image?`,
    );
  const output = (result.stderr || stdoutText(result).trim()).split("\n").slice(-8).join(" | ");
  const status = `${tool} exited with status ${result.exitCode ?? "unknown"}`;
  throw new AgentError(Code.Internal, `${what}: ${status}${output ? `: ${output}` : ""}`);
}
