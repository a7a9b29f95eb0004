// Agent RPC figures: Health.Check round trips against containerd's Go ttrpc server (same Go
// client, same run), cold start, and idle memory of the agent.
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { dial, Health, parseAddress, serviceClient, TtrpcClient } from "../../agent/src/client/index.js";
import { canOmitCodeCache, snapshotBuildArgs } from "../../builder/src/stages/make-agent-snapshot.js";
import { asBenchResult, buildGoPeers, runGoClient } from "../helpers/peers.js";
import { type Memory, median, memoryOf, repoRoot, shippedNodeFlags, sleep } from "./procs.js";
import type { Section } from "./report.js";

const agentBundle = path.join(repoRoot, "agent/dist/kata-agent.mjs");
const snapshotEntry = path.join(repoRoot, "agent/dist/kata-agent-snapshot.cjs");

interface Server {
  address: string;
  pid: number;
  stop(): Promise<void>;
}

/** How the agent is started: from its bundle, or from a start-up snapshot (a blob file). */
type Flavour = { kind: "bundle" } | { kind: "snapshot"; blob: string };

function agentCommand(flavour: Flavour): string[] {
  return flavour.kind === "bundle"
    ? [...shippedNodeFlags(), agentBundle]
    : [...shippedNodeFlags(), "--snapshot-blob", flavour.blob, "--"];
}

function startAgent(dir: string, name: string, flavour: Flavour = { kind: "bundle" }): AgentProcess {
  const address = `unix://${path.join(dir, `${name}.sock`)}`;
  const child = execa(process.execPath, [...agentCommand(flavour), "--cmdline", "/dev/null"], {
    env: {
      KATA_AGENT_SERVER_ADDR: address,
      KATA_AGENT_LOG_LEVEL: "info",
      KATA_AGENT_RUN_DIR: path.join(dir, name),
    },
    reject: false,
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
    buffer: false,
  });
  let ready: ReadyLine | undefined;
  let text = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    if (ready) return;
    text += chunk.toString("utf8");
    const line = text.split("\n").find((l) => l.includes('"msg":"agent ready"'));
    if (line) ready = JSON.parse(line) as ReadyLine;
  });
  return { address, child, ready: () => ready };
}

interface AgentProcess {
  address: string;
  child: ResultPromise;
  /** The "agent ready" log line, once it was printed. */
  ready(): ReadyLine | undefined;
}

interface ReadyLine {
  startupMs: number;
  phasesMs: Record<string, number>;
  loadMs?: Record<string, number>;
}

/** A start-up snapshot of the agent made by this machine's node, as kata-build makes one in a guest. */
export async function makeHostSnapshot(dir: string): Promise<string> {
  const files = {
    entry: snapshotEntry,
    blob: path.join(dir, "kata-agent.blob"),
    config: path.join(dir, "kata-agent-snapshot.json"),
  };
  const build = snapshotBuildArgs(process.version, files);
  if (build.config) writeFileSync(files.config, build.config);
  await execa(process.execPath, [...shippedNodeFlags(), ...build.args], { stdio: "ignore" });
  return files.blob;
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

async function serve(
  kind: "ours" | "go",
  dir: string,
  flavour: Flavour = { kind: "bundle" },
): Promise<Server> {
  if (kind === "ours") {
    const { address, child } = startAgent(dir, `agent-${flavour.kind}`, flavour);
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

interface ColdStart {
  /** Spawn to first answered Check, median, per flavour. */
  agent: Record<Flavour["kind"], number>;
  /** The median run's phases (node's clock), per flavour. */
  phases: Record<Flavour["kind"], ReadyLine | undefined>;
  node: number;
  go: number;
}

async function coldStart(dir: string, runs: number, blob: string): Promise<ColdStart> {
  const flavours: Flavour[] = [{ kind: "bundle" }, { kind: "snapshot", blob }];
  const times: Record<Flavour["kind"], { ms: number; ready?: ReadyLine }[]> = { bundle: [], snapshot: [] };
  const node: number[] = [];
  const go: number[] = [];
  const { server } = await buildGoPeers();
  for (let i = 0; i < runs; i++) {
    for (const flavour of flavours) {
      const t0 = performance.now();
      const agent = startAgent(dir, `cold-${flavour.kind}${i}`, flavour);
      const ms = await firstCheck(agent.address, t0);
      agent.child.kill("SIGTERM");
      await agent.child;
      times[flavour.kind].push({ ms, ...(agent.ready() ? { ready: agent.ready()! } : {}) });
    }

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
  const medianRun = (kind: Flavour["kind"]) => {
    const sorted = [...times[kind]].sort((a, b) => a.ms - b.ms);
    return sorted[sorted.length >> 1];
  };
  return {
    agent: {
      bundle: median(times.bundle.map((t) => t.ms)),
      snapshot: median(times.snapshot.map((t) => t.ms)),
    },
    phases: { bundle: medianRun("bundle")?.ready, snapshot: medianRun("snapshot")?.ready },
    node: median(node),
    go: median(go),
  };
}

/** "node 31, load 44 (read and compile 24, ...), config 2, ..." from a ready line. */
export function phasesText(ready: ReadyLine | undefined): string {
  if (!ready) return "no ready line";
  const ms = (n: number) => String(Math.round(n * 10) / 10);
  return Object.entries(ready.phasesMs)
    .map(([name, n]) => {
      const detail =
        name === "load" && ready.loadMs
          ? ` (${Object.entries(ready.loadMs)
              .map(([chunk, c]) => `${chunk} ${ms(c)}`)
              .join(", ")})`
          : "";
      return `${name} ${ms(n)}${detail}`;
    })
    .join(", ");
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
    const blob = await makeHostSnapshot(dir);
    const fromSnapshot = await serve("ours", dir, { kind: "snapshot", blob });
    const snapshotIdle = await idleMemory(fromSnapshot.pid);
    await fromSnapshot.stop();
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
    const cold = await coldStart(dir, options.coldRuns, blob);
    const blobMb = statSync(blob).size / 1e6;

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
          name: "cold start: spawn to first answered Check (bundle)",
          unit: "ms",
          ours: cold.agent.bundle,
          reference: { name: "node -e 0, spawn to exit", value: cold.node },
          goal: { of: "ours", max: 150 },
          note: `median of ${options.coldRuns} runs; phases of the median run (ms, node's clock): ${phasesText(cold.phases.bundle)}`,
        },
        {
          name: "cold start: spawn to first answered Check (snapshot)",
          unit: "ms",
          ours: cold.agent.snapshot,
          reference: { name: "node -e 0, spawn to exit", value: cold.node },
          goal: { of: "ours", max: 150 },
          note: `a start-up snapshot made by this node (${blobMb.toFixed(1)} MB blob), as kata-build makes one in a guest; phases: ${phasesText(cold.phases.snapshot)}; Go ttrpc server: ${cold.go.toFixed(1)} ms`,
        },
        {
          name: "idle RssAnon (bundle)",
          unit: "MB",
          ours: oursIdle.rssAnonKb / 1024,
          reference: { name: "idle bare node", value: nodeIdle.rssAnonKb / 1024 },
          goal: { of: "ours", max: 15 },
          note: `Go ttrpc server: ${(goIdle.rssAnonKb / 1024).toFixed(1)} MB anonymous; upstream Rust agent about 1.2 MB (published)`,
        },
        {
          name: "idle RssAnon (snapshot)",
          unit: "MB",
          ours: snapshotIdle.rssAnonKb / 1024,
          reference: { name: "idle bare node", value: nodeIdle.rssAnonKb / 1024 },
          goal: { of: "ours", max: 15 },
          note: `node keeps the ${blobMb.toFixed(1)} MB blob in memory for the process's life (${canOmitCodeCache(process.version) ? "made without node's code cache for its built-ins, as kata-build makes it with a node that can" : "with node's code cache for its built-ins: this node cannot leave it out"})`,
        },
        {
          name: "idle VmRSS (snapshot)",
          unit: "MB",
          ours: snapshotIdle.vmRssKb / 1024,
          reference: { name: "idle bare node", value: nodeIdle.vmRssKb / 1024 },
          goal: { of: "ours", max: 50 },
          note: `RssFile ${(snapshotIdle.rssFileKb / 1024).toFixed(1)} MB, bare node ${(nodeIdle.rssFileKb / 1024).toFixed(1)} MB`,
        },
        {
          name: "idle VmRSS (bundle)",
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
