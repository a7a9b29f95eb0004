// The one way storage runs an external program: execa with reject:false, so each tool module
// returns a typed result and its caller branches on exitCode / timedOut / isCanceled.
import { execa } from "../../util/exec.js";

export interface ToolOptions {
  /** Milliseconds before the program is terminated. */
  timeout?: number;
  cancelSignal?: AbortSignal;
}

export interface ToolResult {
  /** "resize2fs /dev/vdb 1048576K", for messages. */
  command: string;
  exitCode: number | undefined;
  timedOut: boolean;
  isCanceled: boolean;
  stdout: string;
  stderr: string;
  ok: boolean;
  /** Set when the program could not be started (e.g. not installed). */
  spawnError?: string;
}

/** Programs live in sbin on most guests; the agent's PATH may not have it. */
const PATH = ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/bin", "/bin"].join(":");

export async function runTool(
  file: string,
  args: readonly string[],
  options: ToolOptions = {},
): Promise<ToolResult> {
  const result = await execa(file, args, {
    reject: false,
    timeout: options.timeout,
    cancelSignal: options.cancelSignal,
    env: { PATH: `${process.env.PATH ?? ""}:${PATH}`, LC_ALL: "C" },
    stdin: "ignore",
    cleanup: true,
    forceKillAfterDelay: 5000,
  });
  const spawnError =
    result.failed && result.exitCode === undefined && !result.timedOut && !result.isCanceled
      ? ((result.cause as Error | undefined)?.message ?? result.shortMessage)
      : undefined;
  return {
    command: [file, ...args].join(" "),
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    isCanceled: result.isCanceled,
    stdout: typeof result.stdout === "string" ? result.stdout : "",
    stderr: typeof result.stderr === "string" ? result.stderr : "",
    ok: result.exitCode === 0 && !result.timedOut && !result.isCanceled,
    ...(spawnError ? { spawnError } : {}),
  };
}

/** "resize2fs exited with status 1: <last lines of stderr>" for a failed run. */
export function failure(result: ToolResult): string {
  const why = result.spawnError
    ? `could not be started (${result.spawnError}); is it installed in the guest image?`
    : result.timedOut
      ? "timed out"
      : result.isCanceled
        ? "was cancelled"
        : `exited with status ${result.exitCode ?? "unknown"}`;
  const output = (result.stderr || result.stdout).trim().split("\n").slice(-8).join(" | ");
  return `${result.command} ${why}${output && !result.spawnError ? `: ${output}` : ""}`;
}
