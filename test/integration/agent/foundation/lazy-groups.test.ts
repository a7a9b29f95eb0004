// Start-up loads no AgentService code: each RPC group (and the service's descriptors) loads on the
// group's first call. Driven through containerd's Go ttrpc client, as the Kata runtime calls:
// Health.Check loads nothing, and the first call of every group is answered by that group's
// handler (its own code, not UNIMPLEMENTED), loading it once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "../../../../agent/src/client/index.js";
import { type RunningAgent, startAgent } from "../../../helpers/agent.js";
import { buildGoPeers, runGoClient } from "../../../helpers/peers.js";

let agent: RunningAgent;

beforeAll(async () => {
  await buildGoPeers();
  agent = await startAgent();
});
afterAll(async () => {
  await agent.stop();
});

const groupLoads = () =>
  agent
    .logs()
    .filter((r) => r.msg === "RPC group loaded on its first call")
    .map((r) => `${r.group}:${r.method}`);

/** Each group's first call, with a request its handler answers in a known way. */
const FIRST_CALLS: { group: string; method: string; request: unknown; code: Code }[] = [
  {
    group: "containers",
    method: "StatsContainer",
    request: { container_id: "none" },
    code: Code.InvalidArgument,
  },
  {
    group: "processes",
    method: "WaitProcess",
    request: { container_id: "none" },
    code: Code.InvalidArgument,
  },
  { group: "guest", method: "GetGuestDetails", request: { mem_block_size: true }, code: Code.OK },
  { group: "storage", method: "GetVolumeStats", request: {}, code: Code.InvalidArgument },
  { group: "network", method: "ListInterfaces", request: {}, code: Code.OK },
  {
    group: "policy",
    method: "SetPolicy",
    request: { policy: JSON.stringify({ version: 1, default: "allow", rules: [] }) },
    code: Code.OK,
  },
];

describe("RPC groups loaded on first call (Go ttrpc client)", () => {
  it("answers Health.Check with no AgentService code loaded", async () => {
    expect((await runGoClient(agent.address, ["check"])).json).toEqual({ status: "SERVING" });
    expect(groupLoads()).toEqual([]);
    // Logged once the reply is out (the test helper's own connection checked first).
    await expect
      .poll(() => agent.logs().find((r) => r.msg === "first call answered"))
      .toMatchObject({
        method: "/grpc.Health/Check",
        loadedOnDemand: [],
        rssAnonKb: expect.any(Number),
      });
  });

  it("loads each group on its first call, and that group's handler answers it", async () => {
    for (const call of FIRST_CALLS) {
      const r = await runGoClient(agent.address, [
        "call",
        "grpc.AgentService",
        call.method,
        JSON.stringify(call.request),
      ]);
      const code = r.error?.codeNumber ?? Code.OK;
      expect(code, `${call.method}: ${r.error?.message ?? "ok"}`).toBe(call.code);
    }
    expect(groupLoads()).toEqual(FIRST_CALLS.map((c) => `${c.group}:${c.method}`));
  });

  it("serves later calls from the loaded groups without loading them again", async () => {
    for (const call of FIRST_CALLS.slice(0, 3)) {
      const r = await runGoClient(agent.address, [
        "call",
        "grpc.AgentService",
        call.method,
        JSON.stringify(call.request),
      ]);
      expect(r.error?.codeNumber ?? Code.OK).toBe(call.code);
    }
    expect(groupLoads()).toHaveLength(FIRST_CALLS.length);
  });
});
