// The vsock probe that proves, inside a guest, that a container cannot reach the agent over vsock
// loopback (test/helpers/vsock-probe.ts). Here its three answers are checked against real peers:
// the agent answers it, a listener that drops connections (as the agent drops loopback peers)
// closes it, and this host, without vsock loopback, refuses the connection itself; and the
// container step the guest runs goes through the agent with real runc.
import { execFile } from "node:child_process";
import { copyFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningAgent, startAgent } from "../../../helpers/agent.js";
import { busyboxRootfs } from "../../../helpers/oci.js";
import { buildVsockProbe, runLoopbackProbeInContainer, runVsockProbe } from "../../../helpers/vsock-probe.js";

let probe: string;
let agent: RunningAgent;

beforeAll(async () => {
  probe = buildVsockProbe();
  agent = await startAgent({ env: { KATA_AGENT_OCI_RUNTIME: "runc" } });
});

afterAll(async () => {
  await agent.stop();
});

describe("vsock-probe", () => {
  it("is answered by the agent (its ttrpc Health.Check is well formed)", () => {
    expect(runVsockProbe(probe, ["unix", agent.socketPath])).toEqual({ exitCode: 0, outcome: "answered" });
  });

  it("reports a connection accepted and dropped, as the agent drops a loopback peer", async () => {
    const socketPath = path.join(process.env.TMPDIR ?? "/tmp", "dropper.sock");
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      // Asynchronously: the server above must accept while the probe runs.
      const outcome = await new Promise<{ code: number; out: string }>((resolve) =>
        execFile(probe, ["unix", socketPath], (err, out) =>
          resolve({ code: (err as { code?: number } | null)?.code ?? 0, out: out.trim() }),
        ),
      );
      expect(outcome).toEqual({ code: 1, out: "closed" });
    } finally {
      server.close();
    }
  });

  it("names the errno when the connection itself is refused", () => {
    expect(runVsockProbe(probe, ["unix", "/nonexistent/agent.sock"])).toEqual({
      exitCode: 2,
      outcome: "error ENOENT",
    });
  });

  it("runs as a container through the agent (the step the guest runs)", async () => {
    const rootPath = busyboxRootfs();
    copyFileSync(probe, path.join(rootPath, "vsock-probe"));
    const result = await runLoopbackProbeInContainer(agent.agent, { rootPath });
    // This host has no vsock loopback transport: the kernel never completes the connection.
    expect(result).toMatchObject({ exitCode: 2, outcome: "error ETIMEDOUT" });
  });
});
