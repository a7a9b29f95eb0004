// Deadlines longer than a Node timer can hold (2^31 ms, about 24.8 days) against the real agent:
// they must mean "no deadline", not a timer that fires after 1 ms.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "../../../../agent/src/client/index.js";
import { type RunningAgent, startAgent } from "../../../helpers/agent.js";
import { containerSpec } from "../../../helpers/oci.js";
import { buildGoPeers, buildPythonPeer, runGoClient, runPythonClient } from "../../../helpers/peers.js";
import { rpcError } from "../containers/helpers.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** "pending" if the call is still running after `ms`, else how it ended. */
async function stateAfter(call: Promise<unknown>, ms: number): Promise<string> {
  return Promise.race([
    call.then(
      () => "answered",
      (err: Error) => `failed: ${err.message}`,
    ),
    sleep(ms).then(() => "pending"),
  ]);
}

describe("deadlines past a timer's range", () => {
  let a: RunningAgent;
  beforeAll(async () => {
    await buildGoPeers();
    a = await startAgent({ env: { KATA_AGENT_OCI_RUNTIME: "runc" } });
    await a.agent.createSandbox({ sandboxId: "pod" });
  });
  afterAll(async () => {
    await a.stop();
  });

  it("keeps a call with timeout_nano of 2^31 ms or more waiting until it is answered", async () => {
    await a.agent.createContainer({ containerId: "long", OCI: containerSpec({ args: ["sleep", "1000"] }) });
    await a.agent.startContainer({ containerId: "long" });
    const wait = { containerId: "long", execId: "long" };
    // containerd's Go client sends 600 h (2.16e9 ms) as timeout_nano.
    const go = runGoClient(
      a.address,
      ["call", "grpc.AgentService", "WaitProcess", JSON.stringify({ container_id: "long", exec_id: "long" })],
      {
        timeout: "600h",
      },
    );
    const calls = [2 ** 31, 2 ** 32, 2 ** 40, 9.2e12].map((timeoutMs) =>
      a.agent.waitProcess(wait, { timeoutMs }),
    );
    for (const call of calls) expect(await stateAfter(call, 300)).toBe("pending");
    // Long enough for the Go client to start and send its call.
    expect(await stateAfter(go, 1500)).toBe("pending");
    await a.agent.signalProcess({ ...wait, signal: 9 });
    for (const call of calls) expect((await call).status).toBe(128 + 9);
    const goResult = await go;
    expect(goResult.exitCode).toBe(0);
    expect(goResult.json).toMatchObject({ status: 128 + 9 });
    // An ordinary deadline still ends a call on time.
    await a.agent.createContainer({ containerId: "short", OCI: containerSpec({ args: ["sleep", "1000"] }) });
    await a.agent.startContainer({ containerId: "short" });
    const started = Date.now();
    const short = await stateAfter(
      a.agent.waitProcess({ containerId: "short", execId: "short" }, { timeoutMs: 200 }),
      5000,
    );
    expect(short).toMatch(/^failed: timeout/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    await a.agent.removeContainer({ containerId: "long" });
    await a.agent.removeContainer({ containerId: "short" });
  });

  it("removes a container when RemoveContainer's timeout is 2^32-1 seconds", async () => {
    await a.agent.createContainer({ containerId: "rm", OCI: containerSpec({ args: ["sleep", "1000"] }) });
    await a.agent.startContainer({ containerId: "rm" });
    await a.agent.removeContainer({ containerId: "rm", timeout: 2 ** 32 - 1 });
    // Gone: the agent no longer knows it.
    expect(await rpcError(a.agent.statsContainer({ containerId: "rm" }))).toMatchObject({
      code: Code.InvalidArgument,
    });
  });
});

describe("gRPC deadlines past a timer's range", () => {
  let a: RunningAgent;
  let grpcAddr: string;
  beforeAll(async () => {
    await buildPythonPeer();
    const dir = mkdtempSync(path.join(tmpdir(), "grpc-deadline-"));
    grpcAddr = `unix:${path.join(dir, "grpc.sock")}`;
    a = await startAgent({ env: { KATA_AGENT_GRPC_ADDR: `unix://${path.join(dir, "grpc.sock")}` } });
    await a.agent.createSandbox({ sandboxId: "pod" });
  });
  afterAll(async () => {
    await a.stop();
  });

  it("keeps a long-poll with a 35-day grpc-timeout waiting (grpc-js would fire it at once)", async () => {
    // An ordinary deadline still ends a call on time.
    const short = await runPythonClient(grpcAddr, ["call", "grpc.AgentService", "GetOOMEvent", "{}"], {
      timeout: "300ms",
    });
    expect(short.error?.code).toBe("DEADLINE_EXCEEDED");
    const poll = runPythonClient(grpcAddr, ["call", "grpc.AgentService", "GetOOMEvent", "{}"], {
      timeout: "3000000s",
    });
    expect(await stateAfter(poll, 1500)).toBe("pending");
    // Destroying the sandbox ends the long-poll (and then the agent, as upstream's): not a deadline.
    await a.agent.destroySandbox({}).catch(() => {});
    const r = await poll;
    expect(r.error?.code).toBeDefined();
    expect(r.error?.code).not.toBe("DEADLINE_EXCEEDED");
  });
});
