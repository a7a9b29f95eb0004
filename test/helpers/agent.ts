// Runs the bundled agent as a host process on a Unix socket, as upstream's agent API tests do,
// and connects a typed ttrpc client to it. Every test talks to the real agent binary.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import {
  type AgentService,
  connect as connectAgent,
  type Health,
  type ServiceClient,
  type TtrpcClient,
} from "../../agent/src/client/index.js";

import { wrapperNodeFlags } from "../../builder/src/stages/make-agent-snapshot.js";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const agentBundle = path.join(repoRoot, "agent/dist/kata-agent.mjs");
export const ctlBundle = path.join(repoRoot, "agent/dist/kata-agent-ctl.mjs");

/**
 * The node flags the guest image starts the agent with, read from the wrapper script in
 * rootfs/common, so tests and the bench run exactly what ships.
 */
export function shippedNodeFlags(): string[] {
  const wrapper = readFileSync(path.join(repoRoot, "rootfs/common/usr/bin/kata-agent"), "utf8");
  const flags = wrapperNodeFlags(wrapper);
  if (!flags) throw new Error('rootfs/common/usr/bin/kata-agent has no NODE_FLAGS="..." line');
  return flags;
}

export interface AgentOptions {
  /** Extra environment (KATA_AGENT_*). */
  env?: Record<string, string>;
  /** Kernel command line the agent reads instead of /proc/cmdline. */
  cmdline?: string;
  args?: string[];
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string;
  /** A command the agent's command line is appended to (e.g. `unshare --uts --mount`). */
  launcher?: string[];
  /** Wait for this many ms for "agent ready". */
  readyTimeoutMs?: number;
  /** Start from this start-up snapshot blob instead of the bundle. */
  snapshotBlob?: string;
}

export interface RunningAgent {
  /** unix://... address of the ttrpc listener. */
  address: string;
  socketPath: string;
  /** Private scratch directory (run dir, socket, cmdline file), removed by stop(). */
  dir: string;
  pid: number;
  /** A connected client, its typed stubs, and a way to open more connections. */
  client: TtrpcClient;
  agent: ServiceClient<typeof AgentService>;
  health: ServiceClient<typeof Health>;
  connect(): Promise<TtrpcClient>;
  /** JSON log records the agent printed so far. */
  logs(): Record<string, unknown>[];
  /** Everything the agent wrote to stderr so far (log lines, and anything else, e.g. Node's warnings). */
  stderr(): string;
  /** SIGTERM, then wait for exit. */
  stop(): Promise<{ exitCode: number | undefined; signal: string | undefined }>;
  process: ResultPromise;
}

export async function startAgent(options: AgentOptions = {}): Promise<RunningAgent> {
  const dir = mkdtempSync(path.join(tmpdir(), "kata-agent-test-"));
  const socketPath = path.join(dir, "agent.sock");
  const address = `unix://${socketPath}`;
  const cmdlineFile = path.join(dir, "cmdline");
  writeFileSync(cmdlineFile, options.cmdline ?? "");
  // Exactly as the guest image starts it: the same node flags as its wrapper script.
  const command = [
    process.execPath,
    ...shippedNodeFlags(),
    ...(options.snapshotBlob ? ["--snapshot-blob", options.snapshotBlob, "--"] : [agentBundle]),
    "--cmdline",
    cmdlineFile,
    ...(options.args ?? []),
  ];
  const [file, ...args] = options.netns
    ? ["ip", "netns", "exec", options.netns, ...command]
    : [...(options.launcher ?? []), ...command];
  const child = execa(file!, args, {
    env: {
      KATA_AGENT_SERVER_ADDR: address,
      KATA_AGENT_RUN_DIR: path.join(dir, "run"),
      KATA_AGENT_LOG_LEVEL: "debug",
      ...options.env,
    },
    reject: false,
    buffer: false,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const records: Record<string, unknown>[] = [];
  let stderrText = "";
  const ready = new Promise<void>((resolve, reject) => {
    let partial = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderrText += chunk.toString();
      partial += chunk.toString();
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        try {
          const record = JSON.parse(line) as Record<string, unknown>;
          records.push(record);
          if (record.msg === "agent ready") resolve();
        } catch {
          // not a log line
        }
      }
    });
    void child.then((result) =>
      reject(new Error(`agent exited (${result.exitCode}) before ready:\n${stderrText}`)),
    );
    setTimeout(
      () => reject(new Error(`agent not ready after ${options.readyTimeoutMs ?? 20_000} ms:\n${stderrText}`)),
      options.readyTimeoutMs ?? 20_000,
    ).unref();
  });
  await ready;
  const first = await connectAgent(address, { timeoutMs: 5000 });
  const clients = [first.ttrpc];
  return {
    address,
    socketPath,
    dir,
    pid: child.pid!,
    client: first.ttrpc,
    agent: first.agent,
    health: first.health,
    connect: async () => {
      const { ttrpc } = await connectAgent(address, { timeoutMs: 5000 });
      clients.push(ttrpc);
      return ttrpc;
    },
    logs: () => records,
    stderr: () => stderrText,
    process: child,
    async stop() {
      for (const c of clients) c.close();
      child.kill("SIGTERM");
      const result = await child;
      rmSync(dir, { recursive: true, force: true });
      return { exitCode: result.exitCode, signal: result.signal };
    },
  };
}
