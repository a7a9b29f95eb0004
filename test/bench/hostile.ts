// Hostile-load figures: the agent's anonymous memory (RssAnon) during and after (a) a stdin
// flood to a process that never reads, (b) 200 connections each sending most of a 4 MiB frame
// and then nothing, (c) 10,000 pipelined GetMetrics calls whose replies are read late; each
// beside the idle figure. Goals: peak under 64 MB, back within 5 MB of idle after the flood.
import { MESSAGE_LENGTH_MAX } from "../../agent/src/ttrpc/frame.js";
import { type RunningAgent, startAgent } from "../helpers/agent.js";
import { openHalfFrames, pipelinedCalls } from "../helpers/hostile-clients.js";
import { containerSpec } from "../helpers/oci.js";
import { memoryOf, sleep } from "./procs.js";
import type { Figure, Section } from "./report.js";

/** How long the agent gets to give memory back after a flood. */
const SETTLE_MS = 10_000;

const anonMb = (pid: number) => memoryOf(pid).rssAnonKb / 1024;

/** Samples RssAnon every 50 ms while `work` runs; returns its peak. */
async function peakDuring(pid: number, work: () => Promise<void>): Promise<number> {
  let peak = anonMb(pid);
  const sampler = setInterval(() => {
    peak = Math.max(peak, anonMb(pid));
  }, 50);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return Math.max(peak, anonMb(pid));
}

/** RssAnon once it is within 5 MB of `idle`, or after SETTLE_MS; and how long that took. */
async function settled(pid: number, idle: number): Promise<{ mb: number; ms: number }> {
  const started = performance.now();
  while (performance.now() - started < SETTLE_MS && anonMb(pid) - idle >= 5) await sleep(100);
  return { mb: anonMb(pid), ms: performance.now() - started };
}

async function stdinFlood(a: RunningAgent, writes: number): Promise<void> {
  await a.agent.createContainer({ containerId: "deaf", OCI: containerSpec({ args: ["sleep", "100000"] }) });
  await a.agent.startContainer({ containerId: "deaf" });
  const chunk = Buffer.alloc(MESSAGE_LENGTH_MAX - 1024, 0x61);
  const calls = Array.from({ length: writes }, () =>
    a.agent
      .writeStdin({ containerId: "deaf", execId: "deaf", data: chunk }, { timeoutMs: 1000 })
      .catch(() => {}),
  );
  await Promise.all(calls);
  // Calls the agent held back run to their own deadlines once read: wait for the last.
  const ended = () =>
    a.logs().filter((r) => r.msg === "call" && r.method === "/grpc.AgentService/WriteStdin").length;
  for (const until = Date.now() + 60_000; ended() < writes && Date.now() < until; ) await sleep(100);
  await a.agent.removeContainer({ containerId: "deaf" });
}

async function halfFrames(a: RunningAgent, connections: number): Promise<void> {
  const flood = await openHalfFrames(a.socketPath, connections);
  await sleep(3000);
  flood.destroy();
}

async function pipelined(a: RunningAgent, calls: number): Promise<void> {
  // The client reads nothing for 3 s, then everything.
  const replies = await pipelinedCalls(a.socketPath, {
    method: "GetMetrics",
    calls,
    holdMs: 3000,
    readMs: 60_000,
  });
  if (replies !== calls) throw new Error(`pipelined: ${replies} replies to ${calls} calls`);
}

export async function benchHostile(options: {
  writes: number;
  connections: number;
  calls: number;
}): Promise<Section> {
  const scenarios: [string, string, (a: RunningAgent) => Promise<void>][] = [
    [
      "stdin flood",
      `${options.writes} WriteStdin calls of 4 MiB (1 s deadline each) to a process that never reads, one connection`,
      (a) => stdinFlood(a, options.writes),
    ],
    [
      `${options.connections} half-sent 4 MiB frames`,
      `${options.connections} connections each send a 4 MiB frame's header and all but 1 KiB of its body, then nothing for 3 s`,
      (a) => halfFrames(a, options.connections),
    ],
    [
      `${options.calls} pipelined calls`,
      `${options.calls} GetMetrics requests written at once on one connection; the replies read after 3 s`,
      (a) => pipelined(a, options.calls),
    ],
  ];
  const figures: Figure[] = [];
  // A fresh agent for each flood, so that each starts from the same idle level.
  for (const [name, what, run] of scenarios) {
    const a = await startAgent({ env: { KATA_AGENT_OCI_RUNTIME: "runc" } });
    try {
      await a.agent.createSandbox({ sandboxId: "bench" });
      // Idle as a serving agent is: its RPC groups loaded (each loads on its first call).
      await a.agent.getMetrics({});
      for (let i = 0; i < 20; i++) await a.health.check({});
      await sleep(2000);
      const idle = anonMb(a.pid);
      const peak = await peakDuring(a.pid, () => run(a));
      const after = await settled(a.pid, idle);
      figures.push(
        {
          name: `${name}: RssAnon peak`,
          unit: "MB",
          ours: peak,
          reference: { name: "the same agent idle", value: idle },
          goal: { of: "ours", max: 64 },
          note: what,
        },
        {
          name: `${name}: RssAnon after, above idle`,
          unit: "MB",
          ours: after.mb - idle,
          goal: { of: "ours", max: 5 },
          note: `${after.mb.toFixed(1)} MB ${(after.ms / 1000).toFixed(1)} s after the flood ended (idle ${idle.toFixed(1)} MB)`,
        },
      );
    } finally {
      await a.stop();
    }
  }
  return {
    title: "Agent memory under hostile clients (RssAnon of the real agent, a fresh one per flood)",
    figures,
  };
}
