// Container figures: a container's create+start+wait through the agent against bare `runc run`
// of the same bundle, stdout throughput through 32 KiB ReadStdout calls, 100 containers alive at
// once, and the agent's memory and fds after many create/remove cycles.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import { execa } from "execa";
import { SpecSchema } from "../../agent/gen/oci_pb.js";
import { toRuntimeSpec } from "../../agent/src/containers/oci-spec.js";
import { stringifyExact } from "../../agent/src/containers/runtime-spec.js";
import { type RunningAgent, startAgent } from "../helpers/agent.js";
import { containerSpec } from "../helpers/oci.js";
import { runGoClient, startGoHealthServer } from "../helpers/peers.js";
import { median, memoryOf, openFds, sleep } from "./procs.js";
import type { Section } from "./report.js";

async function agentRun(a: RunningAgent, id: string, args: string[]): Promise<number> {
  const t0 = performance.now();
  await a.agent.createContainer({ containerId: id, OCI: containerSpec({ args }) });
  await a.agent.startContainer({ containerId: id });
  await a.agent.waitProcess({ containerId: id, execId: id });
  const elapsed = performance.now() - t0;
  await a.agent.removeContainer({ containerId: id });
  return elapsed;
}

/** A bundle with the config.json the agent would write for these args (same rootfs). */
function writeBundle(dir: string, id: string, args: string[]): string {
  const bundle = path.join(dir, id);
  mkdirSync(bundle, { recursive: true });
  const spec = toRuntimeSpec(create(SpecSchema, containerSpec({ args })));
  spec.linux = { ...spec.linux, cgroupsPath: `/kata/${id}` };
  spec.linux.namespaces = (spec.linux.namespaces ?? []).filter((n) => n.type !== "network");
  writeFileSync(path.join(bundle, "config.json"), stringifyExact(spec));
  return bundle;
}

/** `runc run` of the very bundle the agent would write. */
async function bareRunc(dir: string, id: string, args: string[]): Promise<number> {
  const bundle = writeBundle(dir, id, args);
  const t0 = performance.now();
  await execa("runc", ["--root", path.join(dir, "state"), "run", "--bundle", bundle, id], {
    stdio: "ignore",
  });
  return performance.now() - t0;
}

/**
 * The same lifecycle the agent must follow (CreateContainer and StartContainer are separate
 * RPCs, so `runc create` then `runc start`), bare: waits for the container's exit by watching
 * its pid (reaped by someone else, so a zombie counts as exited).
 */
async function bareRuncSplit(dir: string, id: string, args: string[]): Promise<number> {
  const bundle = writeBundle(dir, id, args);
  const root = ["--root", path.join(dir, "state")];
  const pidFile = path.join(bundle, "pid");
  const t0 = performance.now();
  await execa("runc", [...root, "create", "--bundle", bundle, "--pid-file", pidFile, id], {
    stdio: "ignore",
  });
  const pid = Number(readFileSync(pidFile, "utf8"));
  await execa("runc", [...root, "start", id], { stdio: "ignore" });
  while (alive(pid)) await sleep(0.2);
  const elapsed = performance.now() - t0;
  await execa("runc", [...root, "delete", "--force", id], { stdio: "ignore", reject: false });
  return elapsed;
}

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/**
 * Stdout throughput as the Kata runtime reads it: containerd's Go ttrpc client looping
 * ReadStdout with 32 KiB, against containerd's Go ttrpc server answering the same reads from
 * memory (the transport and client's own ceiling here), in alternating rounds so that both see
 * the same machine; and, for scale, the same container under bare `runc run`, its stdout a plain
 * pipe read by this process.
 */
async function throughput(
  a: RunningAgent,
  dir: string,
  blocks: number,
  rounds: number,
): Promise<{ mbps: number; directMbps: number; goMbps: number; each: string }> {
  const args = ["dd", "if=/dev/zero", "bs=65536", `count=${blocks}`];
  const bytes = blocks * 65536;
  const sock = path.join(dir, "go-stream.sock");
  const go = await startGoHealthServer(`unix://${sock}`, ["--stream-bytes", String(bytes)]);
  const ours: number[] = [];
  const theirs: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const id = `throughput${round}`;
      await a.agent.createContainer({ containerId: id, OCI: containerSpec({ args }) });
      await a.agent.startContainer({ containerId: id });
      const read = await runGoClient(a.address, ["read-stream", "--container-id", id, "--len", "32768"], {
        killAfterMs: 600_000,
      });
      const result = read.json as { bytes: number; mbps: number };
      await a.agent.waitProcess({ containerId: id, execId: id });
      await a.agent.removeContainer({ containerId: id });
      if (result.bytes !== bytes) throw new Error(`throughput: read ${result.bytes} of ${bytes} bytes`);
      ours.push(result.mbps);

      const ref = await runGoClient(
        go.addr,
        ["read-stream", "--container-id", `ref${round}`, "--len", "32768"],
        {
          killAfterMs: 600_000,
        },
      );
      const goResult = ref.json as { bytes: number; mbps: number };
      if (goResult.bytes !== bytes) throw new Error(`throughput: the Go server sent ${goResult.bytes} bytes`);
      theirs.push(goResult.mbps);
    }
  } finally {
    await go.stop();
  }

  const bundle = writeBundle(dir, "throughput-ref", args);
  const t0 = performance.now();
  const direct = execa(
    "runc",
    ["--root", path.join(dir, "state"), "run", "--bundle", bundle, "throughput-ref"],
    {
      buffer: false,
      stdin: "ignore",
    },
  );
  let got = 0;
  for await (const chunk of direct.stdout!) got += (chunk as Buffer).length;
  await direct;
  const directSeconds = (performance.now() - t0) / 1000;
  const each = ours.map((o, i) => `${o.toFixed(0)}/${theirs[i]!.toFixed(0)}`).join(", ");
  return { mbps: median(ours), directMbps: got / 1e6 / directSeconds, goMbps: median(theirs), each };
}

export async function benchContainers(options: {
  runs: number;
  cycles: number;
  alive: number;
  bytes: number;
  /** Alternating rounds of the stdout reads, ours then the Go server's. */
  streamRounds: number;
}): Promise<Section> {
  const dir = mkdtempSync(path.join(tmpdir(), "bench-containers-"));
  const a = await startAgent({ env: { KATA_AGENT_OCI_RUNTIME: "runc", KATA_AGENT_LOG_LEVEL: "info" } });
  try {
    await a.agent.createSandbox({ sandboxId: "bench" });
    await agentRun(a, "warm", ["true"]);
    await bareRunc(dir, "warm", ["true"]);
    await bareRuncSplit(dir, "warm-split", ["true"]);
    const viaAgent: number[] = [];
    const bare: number[] = [];
    const bareSplit: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      viaAgent.push(await agentRun(a, `t${i}`, ["/bin/true"]));
      bare.push(await bareRunc(dir, `r${i}`, ["/bin/true"]));
      bareSplit.push(await bareRuncSplit(dir, `s${i}`, ["/bin/true"]));
    }

    const tp = await throughput(a, dir, Math.round(options.bytes / 65536), options.streamRounds);

    // Many containers alive at once.
    const t0 = performance.now();
    for (let i = 0; i < options.alive; i++) {
      await a.agent.createContainer({
        containerId: `alive${i}`,
        OCI: containerSpec({ args: ["sleep", "100000"] }),
      });
      await a.agent.startContainer({ containerId: `alive${i}` });
    }
    const aliveSeconds = (performance.now() - t0) / 1000;
    await sleep(1000);
    const aliveMemory = memoryOf(a.pid);
    const aliveFds = openFds(a.pid);
    for (let i = 0; i < options.alive; i++) await a.agent.removeContainer({ containerId: `alive${i}` });

    // Leaks: memory and fds across many create/remove cycles.
    await sleep(500);
    const before = memoryOf(a.pid);
    const fdsBefore = openFds(a.pid);
    for (let i = 0; i < options.cycles; i++) {
      await a.agent.createContainer({ containerId: `cycle${i}`, OCI: containerSpec({ args: ["true"] }) });
      await a.agent.startContainer({ containerId: `cycle${i}` });
      await a.agent.waitProcess({ containerId: `cycle${i}`, execId: `cycle${i}` });
      await a.agent.removeContainer({ containerId: `cycle${i}` });
    }
    await sleep(2000);
    const after = memoryOf(a.pid);
    const fdsAfter = openFds(a.pid);

    return {
      title: `Containers through the agent (runc; busybox rootfs; median of ${options.runs} runs)`,
      figures: [
        {
          name: "create+start+wait of /bin/true",
          unit: "ms",
          ours: median(viaAgent),
          reference: { name: "bare runc run, same bundle", value: median(bare) },
          goal: { of: "ratio", max: 1.2 },
          note: "two RPCs: CreateContainer runs `runc create` (spawned directly, child_process.spawn, without execa); StartContainer does what `runc start` does, reading the container's exec FIFO, without a second runc process",
        },
        {
          name: "create+start+wait of /bin/true (split lifecycle)",
          unit: "ms",
          ours: median(viaAgent),
          reference: { name: "bare runc create + runc start, same bundle", value: median(bareSplit) },
        },
        {
          name: "stdout throughput, 32 KiB ReadStdout calls",
          unit: "MB/s",
          ours: tp.mbps,
          reference: { name: "Go ttrpc server answering the same reads from memory", value: tp.goMbps },
          goal: { of: "ratio", min: 1 },
          note: `${(options.bytes / 1e6).toFixed(0)} MB (dd bs=64k in the container) read to EOF by containerd's Go ttrpc client; medians of ${options.streamRounds} alternating rounds (ours/Go MB/s: ${tp.each}); the same container under bare runc run, its stdout a plain pipe: ${tp.directMbps.toFixed(0)} MB/s`,
        },
        {
          name: `start ${options.alive} containers, one after another`,
          unit: "s",
          ours: aliveSeconds,
          note: `with ${options.alive} alive: agent VmRSS ${(aliveMemory.vmRssKb / 1024).toFixed(1)} MB, RssAnon ${(aliveMemory.rssAnonKb / 1024).toFixed(1)} MB, ${aliveFds} open fds`,
        },
        {
          name: `agent RSS growth over ${options.cycles} create/remove cycles`,
          unit: "MB",
          ours: (after.vmRssKb - before.vmRssKb) / 1024,
          goal: { of: "ours", max: 10 },
          note: `VmRSS ${(before.vmRssKb / 1024).toFixed(1)} -> ${(after.vmRssKb / 1024).toFixed(1)} MB; RssAnon ${(before.rssAnonKb / 1024).toFixed(1)} -> ${(after.rssAnonKb / 1024).toFixed(1)} MB`,
        },
        {
          name: `agent open fds after ${options.cycles} cycles, minus before`,
          unit: "fds",
          ours: fdsAfter - fdsBefore,
          goal: { of: "ours", max: 0 },
          note: `${fdsBefore} before, ${fdsAfter} after`,
        },
      ],
    };
  } finally {
    await a.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
