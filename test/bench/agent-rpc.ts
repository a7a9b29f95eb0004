// Agent RPC figures: Health.Check round trips against containerd's Go ttrpc server (same Go
// client, same run), cold start, and idle memory of the agent.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { dial, Health, parseAddress, serviceClient, TtrpcClient } from "../../agent/src/client/index.js";
import { asBenchResult, buildGoPeers, runGoClient } from "../helpers/peers.js";
import { type Memory, median, memoryOf, repoRoot, shippedNodeFlags, sleep } from "./procs.js";
import type { Section } from "./report.js";

const agentBundle = path.join(repoRoot, "agent/dist/kata-agent.mjs");

interface Server {
  address: string;
  pid: number;
  stop(): Promise<void>;
}

function startAgent(dir: string, name: string): { address: string; child: ResultPromise } {
  const address = `unix://${path.join(dir, `${name}.sock`)}`;
  const child = execa(process.execPath, [...shippedNodeFlags(), agentBundle, "--cmdline", "/dev/null"], {
    env: {
      KATA_AGENT_SERVER_ADDR: address,
      KATA_AGENT_LOG_LEVEL: "warn",
      KATA_AGENT_RUN_DIR: path.join(dir, name),
    },
    reject: false,
    stdio: "ignore",
  });
  return { address, child };
}

/** Polls Health.Check until it answers; returns ms since `since`. */
async function firstCheck(address: string, since: number, limitMs = 20_000): Promise<number> {
  const target = parseAddress(address);
  for (;;) {
    try {
      const socket = await dial(target, { timeoutMs: 1, retryMs: 1 });
      const client = new TtrpcClient(socket);
      await serviceClient(client, Health).check({});
      client.close();
      return performance.now() - since;
    } catch {
      if (performance.now() - since > limitMs) throw new Error(`no answer from ${address} in ${limitMs} ms`);
      await sleep(1);
    }
  }
}

async function serve(kind: "ours" | "go", dir: string): Promise<Server> {
  if (kind === "ours") {
    const { address, child } = startAgent(dir, "agent");
    await firstCheck(address, performance.now());
    return { address, pid: child.pid!, stop: () => stopProcess(child) };
  }
  const { server } = await buildGoPeers();
  const address = `unix://${path.join(dir, "go.sock")}`;
  const child = execa(server, ["--addr", address], { reject: false, stdio: "ignore" });
  await firstCheck(address, performance.now());
  return { address, pid: child.pid!, stop: () => stopProcess(child) };
}

async function stopProcess(child: ResultPromise): Promise<void> {
  child.kill("SIGTERM");
  await child;
}

async function coldStart(dir: string, runs: number): Promise<{ agent: number; node: number; go: number }> {
  const agent: number[] = [];
  const node: number[] = [];
  const go: number[] = [];
  const { server } = await buildGoPeers();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const { address, child } = startAgent(dir, `cold${i}`);
    agent.push(await firstCheck(address, t0));
    child.kill("SIGTERM");
    await child;

    const t1 = performance.now();
    await execa(process.execPath, [...shippedNodeFlags(), "-e", "0"]);
    node.push(performance.now() - t1);

    const goAddress = `unix://${path.join(dir, `go-cold${i}.sock`)}`;
    const t2 = performance.now();
    const goChild = execa(server, ["--addr", goAddress], { reject: false, stdio: "ignore" });
    go.push(await firstCheck(goAddress, t2));
    goChild.kill("SIGTERM");
    await goChild;
  }
  return { agent: median(agent), node: median(node), go: median(go) };
}

async function idleMemory(pid: number): Promise<Memory> {
  await sleep(2000);
  return memoryOf(pid);
}

export async function benchAgentRpc(options: {
  calls: number;
  rounds: number;
  coldRuns: number;
}): Promise<Section> {
  const dir = mkdtempSync(path.join(tmpdir(), "bench-rpc-"));
  try {
    const ours = await serve("ours", dir);
    const go = await serve("go", dir);
    const oursIdle = await idleMemory(ours.pid);
    const goIdle = memoryOf(go.pid);
    const bareNode = execa(process.execPath, [...shippedNodeFlags(), "-e", "setInterval(() => {}, 1000)"], {
      reject: false,
    });
    await sleep(1500);
    const nodeIdle = memoryOf(bareNode.pid!);
    bareNode.kill();

    const samples = {
      ours: [] as ReturnType<typeof asBenchResult>[],
      go: [] as ReturnType<typeof asBenchResult>[],
    };
    for (let round = 0; round < options.rounds; round++) {
      // Alternate the order so neither server always runs on a warmer machine.
      const order = round % 2 ? (["go", "ours"] as const) : (["ours", "go"] as const);
      for (const kind of order) {
        const server = kind === "ours" ? ours : go;
        const r = await runGoClient(server.address, ["bench", "--n", String(options.calls)], {
          killAfterMs: 600_000,
        });
        samples[kind].push(asBenchResult(r.json));
      }
    }
    const afterLoad = memoryOf(ours.pid);
    await ours.stop();
    await go.stop();
    const cold = await coldStart(dir, options.coldRuns);

    const med = (kind: "ours" | "go", key: "callsPerSec" | "p50us" | "p99us" | "meanus") =>
      median(samples[kind].map((s) => s[key]));
    const goRef = (key: "callsPerSec" | "p50us" | "p99us" | "meanus") => ({
      name: "Go ttrpc server",
      value: med("go", key),
    });
    return {
      title: `Agent API over ttrpc (${options.calls} sequential Health.Check calls on one Unix socket connection, containerd's Go client, median of ${options.rounds} rounds)`,
      figures: [
        {
          name: "time per call (mean)",
          unit: "us",
          ours: med("ours", "meanus"),
          reference: goRef("meanus"),
          goal: { of: "ratio", max: 1.5 },
        },
        { name: "time per call (p50)", unit: "us", ours: med("ours", "p50us"), reference: goRef("p50us") },
        { name: "time per call (p99)", unit: "us", ours: med("ours", "p99us"), reference: goRef("p99us") },
        {
          name: "calls per second",
          unit: "calls/s",
          ours: med("ours", "callsPerSec"),
          reference: goRef("callsPerSec"),
        },
        {
          name: "cold start: spawn to first answered Check",
          unit: "ms",
          ours: cold.agent,
          reference: { name: "node -e 0, spawn to exit", value: cold.node },
          goal: { of: "ours", max: 150 },
          note: `Go ttrpc server: ${cold.go.toFixed(1)} ms; median of ${options.coldRuns} runs`,
        },
        {
          name: "idle RssAnon",
          unit: "MB",
          ours: oursIdle.rssAnonKb / 1024,
          reference: { name: "idle bare node", value: nodeIdle.rssAnonKb / 1024 },
          goal: { of: "ours", max: 15 },
          note: `Go ttrpc server: ${(goIdle.rssAnonKb / 1024).toFixed(1)} MB anonymous; upstream Rust agent about 1.2 MB (published)`,
        },
        {
          name: "idle VmRSS",
          unit: "MB",
          ours: oursIdle.vmRssKb / 1024,
          reference: { name: "idle bare node", value: nodeIdle.vmRssKb / 1024 },
          goal: { of: "ours", max: 50 },
          note: `RssFile ${(oursIdle.rssFileKb / 1024).toFixed(1)} MB (mostly the node binary's pages), bare node ${(nodeIdle.rssFileKb / 1024).toFixed(1)} MB; Go server VmRSS ${(goIdle.vmRssKb / 1024).toFixed(1)} MB`,
        },
        {
          name: "RssAnon after the round trips",
          unit: "MB",
          ours: afterLoad.rssAnonKb / 1024,
          note: `VmRSS ${(afterLoad.vmRssKb / 1024).toFixed(1)} MB after ${options.rounds * options.calls} calls (heap not yet collected)`,
        },
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
