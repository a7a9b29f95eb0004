// Running a process through the agent the way the Kata runtime does, in one call each:
// runContainer (CreateContainer, StartContainer, stdin, ReadStdout and ReadStderr to their
// end, WaitProcess, RemoveContainer) and execProcess (the same for ExecProcess into a running
// container). Output goes to callbacks as it arrives; the exit status is returned.
import type { AgentService } from "../../gen/agent_pb.js";
import {
  type ContainerSpecOptions,
  containerSpec,
  type ProcessOptions,
  processSpec,
} from "./container-spec.js";
import type { ServiceClient } from "./service-client.js";

type Agent = ServiceClient<typeof AgentService>;

export interface StdioOptions {
  /** Bytes to send to the process's stdin, then closed. Without it stdin is closed at once. */
  stdin?: AsyncIterable<Uint8Array | string>;
  onStdout?(data: Uint8Array): void;
  /** With a terminal stderr is part of stdout and this is not called. */
  onStderr?(data: Uint8Array): void;
  /** Deadline of each call (ms; 0 = none). WaitProcess always waits without one. */
  timeoutMs?: number;
  /** Called once the process runs, before its stdio is relayed (e.g. to send TtyWinResize). */
  onStarted?(ids: { containerId: string; execId: string }): void | Promise<void>;
}

export interface RunOptions extends ContainerSpecOptions, StdioOptions {
  containerId: string;
  /** Leave the container after its process exits (default: RemoveContainer). */
  keep?: boolean;
}

export interface ExecOptions extends ProcessOptions, StdioOptions {
  containerId: string;
  /** Default: exec-<random>. */
  execId?: string;
}

export interface RunResult {
  containerId: string;
  execId: string;
  /** The exit status as a shell reports it (128 + signal when killed). */
  status: number;
}

const CHUNK = 32 * 1024;

/** Creates and starts a container and leaves it running (no stdio relayed); returns its exec id. */
export async function startDetached(agent: Agent, o: RunOptions): Promise<string> {
  const OCI = containerSpec(o);
  const call = { timeoutMs: o.timeoutMs ?? 0 };
  await agent.createContainer({ containerId: o.containerId, execId: o.containerId, OCI }, call);
  try {
    await agent.startContainer({ containerId: o.containerId }, call);
  } catch (err) {
    await agent.removeContainer({ containerId: o.containerId }, call).catch(() => {});
    throw err;
  }
  return o.containerId;
}

export async function runContainer(agent: Agent, o: RunOptions): Promise<RunResult> {
  const OCI = containerSpec(o);
  const call = { timeoutMs: o.timeoutMs ?? 0 };
  const ids = { containerId: o.containerId, execId: o.containerId };
  await agent.createContainer({ ...ids, OCI }, call);
  try {
    await agent.startContainer({ containerId: o.containerId }, call);
    const status = await relay(agent, ids, o.terminal === true, o);
    return { ...ids, status };
  } finally {
    if (!o.keep) await agent.removeContainer({ containerId: o.containerId }, call).catch(() => {});
  }
}

export async function execProcess(agent: Agent, o: ExecOptions): Promise<RunResult> {
  const ids = {
    containerId: o.containerId,
    execId: o.execId ?? `exec-${Math.random().toString(36).slice(2, 10)}`,
  };
  await agent.execProcess({ ...ids, process: processSpec(o) }, { timeoutMs: o.timeoutMs ?? 0 });
  const status = await relay(agent, ids, o.terminal === true, o);
  return { ...ids, status };
}

/** Feeds stdin, drains stdout (and stderr) to their end, then collects the exit status. */
async function relay(
  agent: Agent,
  ids: { containerId: string; execId: string },
  terminal: boolean,
  o: StdioOptions,
): Promise<number> {
  const call = { timeoutMs: o.timeoutMs ?? 0 };
  await o.onStarted?.(ids);
  const drain = async (which: "stdout" | "stderr", sink?: (data: Uint8Array) => void) => {
    for (;;) {
      const read = which === "stdout" ? agent.readStdout : agent.readStderr;
      const { data } = await read({ ...ids, len: CHUNK });
      if (data.length === 0) return;
      sink?.(data);
    }
  };
  const feed = async () => {
    if (o.stdin) {
      for await (const chunk of o.stdin) {
        const data = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
        if (data.length) await agent.writeStdin({ ...ids, data }, call);
      }
    }
    await agent.closeStdin(ids, call);
  };
  // A process that exits without reading its input fails the writes: its output and status
  // are what matter then.
  const fed = feed().catch(() => {});
  await Promise.all([
    fed,
    drain("stdout", o.onStdout),
    // A terminal's output is all on stdout; its ReadStderr only answers EOF.
    terminal ? Promise.resolve() : drain("stderr", o.onStderr),
  ]);
  const { status } = await agent.waitProcess(ids);
  return status;
}
