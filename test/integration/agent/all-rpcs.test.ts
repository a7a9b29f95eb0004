// Every one of the 42 AgentService RPCs, called with a valid request on the real agent:
// none may answer UNIMPLEMENTED. (Some fail for reasons of this host, e.g. no memory hotplug
// probe file; those answer with their own codes, which is what this test allows.)
import { mkdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentService } from "../../../agent/gen/agent_pb.js";
import { AgentError, Code } from "../../../agent/src/client/index.js";
import { type RunningAgent, startAgent } from "../../helpers/agent.js";
import { containerSpec } from "../../helpers/oci.js";

type Agent = RunningAgent["agent"];
const results = new Map<string, { code: number; message: string }>();

async function record(name: string, call: Promise<unknown>): Promise<void> {
  try {
    await call;
    results.set(name, { code: Code.OK, message: "" });
  } catch (err) {
    if (!(err instanceof AgentError)) throw err;
    results.set(name, { code: err.code, message: err.message });
  }
}

let a: RunningAgent;
beforeAll(async () => {
  a = await startAgent({ env: { KATA_AGENT_OCI_RUNTIME: "runc" }, cmdline: "agent.mem_agent_enable=1" });
});
afterAll(async () => {
  await a.stop();
});

describe("all 42 AgentService RPCs", () => {
  it("answers every RPC with something other than UNIMPLEMENTED", async () => {
    const agent: Agent = a.agent;
    const shared = path.join(a.dir, "run/shared/containers");
    mkdirSync(shared, { recursive: true });
    await record(
      "CreateSandbox",
      agent.createSandbox({ sandboxId: "all", hostname: "all", dns: ["nameserver 127.0.0.1"] }),
    );
    await record(
      "CreateContainer",
      agent.createContainer({ containerId: "all", OCI: containerSpec({ args: ["cat"] }) }),
    );
    await record("StartContainer", agent.startContainer({ containerId: "all" }));
    await record(
      "ExecProcess",
      agent.execProcess({
        containerId: "all",
        execId: "x",
        process: containerSpec({ args: ["sleep", "60"], terminal: true }).Process,
      }),
    );
    await record(
      "WriteStdin",
      agent.writeStdin({ containerId: "all", execId: "all", data: Buffer.from("hi\n") }),
    );
    await record("ReadStdout", agent.readStdout({ containerId: "all", execId: "all", len: 3 }));
    // A terminal has no separate stderr: an immediate EOF.
    await record("ReadStderr", agent.readStderr({ containerId: "all", execId: "x", len: 10 }));
    await record(
      "TtyWinResize",
      agent.ttyWinResize({ containerId: "all", execId: "x", row: 24, column: 80 }),
    );
    await record(
      "UpdateContainer",
      agent.updateContainer({ containerId: "all", resources: { Pids: { Limit: 64n } } }),
    );
    await record("StatsContainer", agent.statsContainer({ containerId: "all" }));
    await record("PauseContainer", agent.pauseContainer({ containerId: "all" }));
    await record("ResumeContainer", agent.resumeContainer({ containerId: "all" }));
    await record("UpdateEphemeralMounts", agent.updateEphemeralMounts({ storages: [] }));
    await record("RemoveStaleVirtiofsShareMounts", agent.removeStaleVirtiofsShareMounts({}));
    await record(
      "GetDiagnosticData",
      agent.getDiagnosticData({ logType: "termination_log", containerId: "all" }),
    );
    await record(
      "UpdateInterface",
      agent.updateInterface({
        interface: { name: "lo", device: "lo", hwAddr: "00:00:00:00:00:00", mtu: 65536n },
      }),
    );
    await record("UpdateRoutes", agent.updateRoutes({ routes: { Routes: [] } }));
    await record("ListInterfaces", agent.listInterfaces({}));
    await record("ListRoutes", agent.listRoutes({}));
    await record("AddARPNeighbors", agent.addARPNeighbors({ neighbors: { ARPNeighbors: [] } }));
    await record("GetIPTables", agent.getIPTables({ isIpv6: false }));
    await record("SetIPTables", agent.setIPTables({ isIpv6: false, data: Buffer.from("*mangle\nCOMMIT\n") }));
    await record("GetMetrics", agent.getMetrics({}));
    await record("MemAgentMemcgSet", agent.memAgentMemcgSet({ disabled: true }));
    await record("MemAgentCompactSet", agent.memAgentCompactSet({ disabled: true }));
    await record("OnlineCPUMem", agent.onlineCPUMem({ nbCpus: 1, cpuOnly: true }));
    await record("ReseedRandomDev", agent.reseedRandomDev({ data: Buffer.alloc(64, 7) }));
    await record("GetGuestDetails", agent.getGuestDetails({ memBlockSize: true, memHotplugProbe: true }));
    await record("MemHotplugByProbe", agent.memHotplugByProbe({ memHotplugProbeAddr: [0x100000000n] }));
    await record(
      "SetGuestDateTime",
      agent.setGuestDateTime({ Sec: BigInt(Math.floor(Date.now() / 1000)), Usec: 0n }),
    );
    await record(
      "CopyFile",
      agent.copyFile({
        path: path.join(shared, "hello.txt"),
        fileSize: 2n,
        fileMode: 0o100644,
        dirMode: 0o755,
        data: Buffer.from("hi"),
      }),
    );
    await record("AddSwap", agent.addSwap({ PCIPath: [31] }, { timeoutMs: 10_000 }));
    await record("AddSwapPath", agent.addSwapPath({ path: path.join(shared, "hello.txt") }));
    await record("GetVolumeStats", agent.getVolumeStats({ volumeGuestPath: shared }));
    await record("ResizeVolume", agent.resizeVolume({ volumeGuestPath: shared, size: 1n << 30n }));
    await record(
      "SetPolicy",
      agent.setPolicy({ policy: JSON.stringify({ version: 1, default: "allow", rules: [] }) }),
    );
    await record("SignalProcess", agent.signalProcess({ containerId: "all", execId: "x", signal: 15 }));
    await record("WaitProcess", agent.waitProcess({ containerId: "all", execId: "x" }));
    await record("CloseStdin", agent.closeStdin({ containerId: "all", execId: "all" }));
    const oom = record("GetOOMEvent", agent.getOOMEvent({}));
    await record("RemoveContainer", agent.removeContainer({ containerId: "all" }));
    await record("DestroySandbox", agent.destroySandbox({}));
    await oom;

    const unimplemented = [...results].filter(([, r]) => r.code === Code.Unimplemented);
    expect(unimplemented).toEqual([]);
    // The test itself must cover the whole service.
    expect([...results.keys()].sort()).toEqual(AgentService.methods.map((m) => m.name).sort());
    // Most succeed here; the rest fail for this host's reasons, each with a code of its own.
    const ok = [...results].filter(([, r]) => r.code === Code.OK).map(([n]) => n);
    expect(ok.length).toBeGreaterThanOrEqual(37);
  });
});
