// WriteStdin against a process that never reads its stdin, in a real container (runc): the
// agent holds a bounded amount of input, a write that does not fit waits as a write to a full
// pipe does, and ends on its deadline, its cancellation, or the process's exit; the memory
// comes back afterwards.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentService, Code, serviceClient } from "../../../../agent/src/client/index.js";
import { STDIN_BUFFER_BYTES } from "../../../../agent/src/processes/stdin.js";
import { type RunningAgent, startAgent } from "../../../helpers/agent.js";
import { containerSpec } from "../../../helpers/oci.js";
import { readAll, rpcError } from "../containers/helpers.js";

const MiB = 1 << 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssAnon(pid: number): number {
  const kb = /^RssAnon:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kb) * 1024;
}

/** Polls until `fn` holds or `ms` pass; returns whether it held. */
async function eventually(fn: () => boolean, ms: number): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; await sleep(100)) if (fn()) return true;
  return fn();
}

describe("WriteStdin to a process that never reads", () => {
  let a: RunningAgent;
  beforeAll(async () => {
    a = await startAgent({ env: { KATA_AGENT_OCI_RUNTIME: "runc" } });
    await a.agent.createSandbox({ sandboxId: "pod" });
  });
  afterAll(async () => {
    await a.stop();
  });

  async function deaf(id: string): Promise<void> {
    await a.agent.createContainer({ containerId: id, OCI: containerSpec({ args: ["sleep", "1000"] }) });
    await a.agent.startContainer({ containerId: id });
  }

  it("blocks once the buffer is full, ends on the deadline, and keeps memory bounded", async () => {
    await deaf("deaf");
    await sleep(500);
    const before = rssAnon(a.pid);
    // A frame carries at most 4 MiB, envelope included.
    const chunk = Buffer.alloc(4 * MiB - 1024, 0x61);
    // 20 writes of 4 MiB (80 MiB) on one connection, each with a 1 s deadline.
    const started = Date.now();
    const calls = Array.from({ length: 20 }, () =>
      a.agent.writeStdin({ containerId: "deaf", execId: "deaf", data: chunk }, { timeoutMs: 1000 }),
    );
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssAnon(a.pid));
    }, 50);
    const outcomes = await Promise.allSettled(calls);
    // Not one write fits (1 MiB of buffer, 64 KiB of pipe): every one ends on its deadline.
    expect(outcomes.every((o) => o.status === "rejected")).toBe(true);
    for (const o of outcomes) {
      expect((o as PromiseRejectedResult).reason).toMatchObject({ code: Code.DeadlineExceeded });
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    // The agent reads the calls it held back as earlier ones end, and each runs to its own
    // deadline (a ttrpc deadline counts from the request's arrival): wait for the last.
    const ended = () =>
      a.logs().filter((r) => r.msg === "call" && r.method === "/grpc.AgentService/WriteStdin").length;
    expect(await eventually(() => ended() >= 20, 30_000)).toBe(true);
    clearInterval(sampler);
    // Before the bound, the 80 MiB piled up in the agent and stayed. Now: what one connection
    // may have in flight (8 MiB) and the frame being read, the stdin buffer, and garbage.
    expect(peak - before).toBeLessThan(32 * MiB);
    // And it comes back.
    await a.agent.removeContainer({ containerId: "deaf" });
    const settled = await eventually(() => rssAnon(a.pid) - before < 6 * MiB, 10_000);
    expect({ settled, growth: (rssAnon(a.pid) - before) / MiB }).toMatchObject({ settled: true });
  }, 90_000);

  it("takes a small write at once, and a blocked write ends when the process exits", async () => {
    await deaf("exits");
    const small = await a.agent.writeStdin({
      containerId: "exits",
      execId: "exits",
      data: Buffer.from("hi\n"),
    });
    expect(small.len).toBe(3);
    // 2 MiB cannot fit; no deadline: only the process's exit ends it.
    const blocked = a.agent.writeStdin({
      containerId: "exits",
      execId: "exits",
      data: Buffer.alloc(2 * MiB),
    });
    const state = await Promise.race([
      blocked.then(
        () => "answered",
        () => "failed",
      ),
      sleep(500).then(() => "waiting"),
    ]);
    expect(state).toBe("waiting");
    await a.agent.signalProcess({ containerId: "exits", execId: "exits", signal: 9 });
    expect(await rpcError(blocked)).toMatchObject({
      code: Code.Internal,
      message: expect.stringMatching(/exited/),
    });
    expect((await a.agent.waitProcess({ containerId: "exits", execId: "exits" })).status).toBe(137);
  });

  it("drops the data of a write whose caller went away, and takes input again once the process reads", async () => {
    // The process starts reading only after a second.
    await a.agent.createContainer({
      containerId: "late",
      OCI: containerSpec({ args: ["sh", "-c", "sleep 1; exec wc -c"] }),
    });
    await a.agent.startContainer({ containerId: "late" });
    // ttrpc has no cancel message: a caller goes away by closing its connection.
    const other = await a.connect();
    const agent = serviceClient(other, AgentService);
    const gone = agent.writeStdin({ containerId: "late", execId: "late", data: Buffer.alloc(3 * MiB, 0x62) });
    await sleep(200);
    other.close();
    await expect(gone).rejects.toBeInstanceOf(Error);
    // Once wc reads, a write larger than the buffer goes through whole.
    const whole = await a.agent.writeStdin({
      containerId: "late",
      execId: "late",
      data: Buffer.alloc(3 * MiB, 0x63),
    });
    expect(whole.len).toBe(3 * MiB);
    await a.agent.closeStdin({ containerId: "late", execId: "late" });
    const counted = Number((await readAll(a, "late", "late", "stdout")).trim());
    // The abandoned write had filled the buffer (as a write into a pipe would) before its caller
    // left; the rest of it was dropped, and all of the second write arrived.
    expect(counted).toBeGreaterThanOrEqual(3 * MiB);
    expect(counted).toBeLessThan(3 * MiB + STDIN_BUFFER_BYTES + 128 * 1024);
    expect((await a.agent.waitProcess({ containerId: "late", execId: "late" })).status).toBe(0);
  });
});
