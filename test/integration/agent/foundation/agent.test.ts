// The bundled agent as a host process, driven by independent peers (containerd's Go ttrpc and
// Python grpcio), raw sockets and kata-agent-ctl.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "../../../../agent/src/client/index.js";
import { agentBundle, ctlBundle, type RunningAgent, startAgent } from "../../../helpers/agent.js";
import { buildGoPeers, buildPythonPeer, runGoClient, runPythonClient } from "../../../helpers/peers.js";

let agent: RunningAgent;
let grpcSocket: string;

beforeAll(async () => {
  await Promise.all([buildGoPeers(), buildPythonPeer()]);
  const dir = mkdtempSync(path.join(tmpdir(), "agent-grpc-"));
  grpcSocket = path.join(dir, "grpc.sock");
  agent = await startAgent({ env: { KATA_AGENT_GRPC_ADDR: `unix://${grpcSocket}` } });
});

afterAll(async () => {
  const { exitCode } = await agent.stop();
  expect(exitCode).toBe(0);
});

const ctl = (args: string[], input?: string) =>
  execa(process.execPath, [ctlBundle, "--addr", agent.address, ...args], {
    reject: false,
    ...(input ? { input } : {}),
  });

describe("ttrpc, through containerd's Go client", () => {
  it("Check reports SERVING and Version the agent and API versions", async () => {
    expect((await runGoClient(agent.address, ["check"])).json).toEqual({ status: "SERVING" });
    const version = await runGoClient(agent.address, ["version"]);
    expect(version.exitCode).toBe(0);
    expect(version.json).toMatchObject({
      grpc_version: "0.0.1",
      agent_version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
  });

  it("a method the service does not have answers UNIMPLEMENTED, naming it", async () => {
    const r = await runGoClient(agent.address, ["call", "grpc.AgentService", "ListProcesses", "{}"]);
    expect(r.error?.codeNumber).toBe(Code.Unimplemented);
    expect(r.error?.message).toContain("ListProcesses");
  });

  it("an unknown service answers INVALID_ARGUMENT, as the Rust agent does", async () => {
    const r = await runGoClient(agent.address, ["call", "grpc.NoSuchService", "Check", "{}"]);
    expect(r.error).toMatchObject({ codeNumber: Code.InvalidArgument });
  });

  it("serves many connections at once", async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => runGoClient(agent.address, ["check"])));
    expect(results.every((r) => r.exitCode === 0)).toBe(true);
  });

  it("keeps serving after a client sends garbage and disconnects", async () => {
    const socket = net.connect(agent.socketPath);
    await new Promise((r) => socket.once("connect", r));
    socket.write(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await new Promise((r) => setTimeout(r, 100));
    socket.destroy();
    expect((await runGoClient(agent.address, ["check"])).exitCode).toBe(0);
  });
});

describe("gRPC, through Python grpcio", () => {
  const target = () => `unix:${grpcSocket}`;

  it("serves the same handlers with the same codes", async () => {
    expect((await runPythonClient(target(), ["check"])).json).toMatchObject({ status: "SERVING" });
    const version = await runPythonClient(target(), ["version"]);
    expect(version.json).toMatchObject({ grpc_version: "0.0.1" });
    const bad = await runPythonClient(target(), [
      "call",
      "grpc.AgentService",
      "WaitProcess",
      '{"container_id":"nope"}',
    ]);
    expect(bad.error?.codeNumber).toBe(Code.InvalidArgument);
    const ttrpc = await runGoClient(agent.address, [
      "call",
      "grpc.AgentService",
      "WaitProcess",
      '{"container_id":"nope"}',
    ]);
    expect(ttrpc.error?.codeNumber).toBe(Code.InvalidArgument);
    expect(bad.error?.message).toBe(ttrpc.error?.message);
  });

  it("offers server reflection listing both services and all 44 methods", async () => {
    const r = await runPythonClient(target(), ["reflect"]);
    expect(r.exitCode).toBe(0);
    const text = JSON.stringify(r.json);
    expect(text).toContain("grpc.AgentService");
    expect(text).toContain("grpc.Health");
    for (const method of ["CreateContainer", "SetPolicy", "MemAgentCompactSet", "Check", "Version"]) {
      expect(text).toContain(method);
    }
  });
});

describe("kata-agent-ctl", () => {
  it("prints replies as JSON and the agent's features from Version", async () => {
    const check = await ctl(["Check"]);
    expect(check.exitCode).toBe(0);
    expect(JSON.parse(check.stdout)).toEqual({ status: "SERVING" });
    const version = JSON.parse((await ctl(["version"])).stdout) as { features: Record<string, unknown> };
    expect(version.features).toMatchObject({ api_version: "0.0.1", wires: ["ttrpc", "grpc"] });
    expect(version.features.transports).toEqual(["vsock", "unix", "tcp", "serial"]);
  });

  it("takes the request as inline JSON, a file, stdin or flags", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ctl-"));
    writeFileSync(path.join(dir, "req.json"), '{"service":"x"}');
    for (const args of [
      ["Check", '{"service":"x"}'],
      ["Check", `@${path.join(dir, "req.json")}`],
      ["Check", "--service", "x"],
    ]) {
      expect((await ctl(args)).exitCode).toBe(0);
    }
    expect((await ctl(["Check", "-"], '{"service":"x"}')).exitCode).toBe(0);
    rmSync(dir, { recursive: true });
  });

  it("shows the status code name and message when a call fails", async () => {
    const r = await ctl(["call-that-does-not-exist"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("unknown RPC 'call-that-does-not-exist'");
    const bad = await ctl(["SignalProcess", "--signal", "nine"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("--signal takes a number");
    const refused = await ctl(["Check"], undefined);
    expect(refused.exitCode).toBe(0);
    const noAgent = await execa(
      process.execPath,
      [ctlBundle, "--addr", "unix:///nonexistent.sock", "--connect-timeout", "200ms", "Check"],
      {
        reject: false,
      },
    );
    expect(noAgent.exitCode).toBe(1);
    expect(noAgent.stderr).toMatch(/cannot connect to unix:\/\/\/nonexistent\.sock within 200 ms/);
  });

  it("reaches the agent through a hybrid vsock VMM socket (CONNECT <port> / OK)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "hvsock-"));
    const vmmSocket = path.join(dir, "vmm.sock");
    const seen: string[] = [];
    // A stand-in for Cloud Hypervisor's vsock multiplexer: handshake, then splice to the agent.
    const vmm = net.createServer((conn) => {
      conn.once("data", (hello: Buffer) => {
        conn.pause(); // hold the client's first frame until the splice is in place
        seen.push(hello.toString());
        if (hello.toString() !== "CONNECT 1024\n") {
          conn.end("ERR unknown port\n");
          return;
        }
        const upstream = net.connect(agent.socketPath, () => {
          conn.write("OK 1073741824\n");
          conn.pipe(upstream).pipe(conn);
        });
      });
    });
    await new Promise<void>((r) => vmm.listen(vmmSocket, r));
    const ok = await execa(process.execPath, [ctlBundle, "--addr", `hvsock://${vmmSocket}:1024`, "Check"], {
      reject: false,
    });
    expect(ok.exitCode).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ status: "SERVING" });
    const refused = await execa(
      process.execPath,
      [ctlBundle, "--addr", `hvsock://${vmmSocket}:2000`, "Check"],
      {
        reject: false,
      },
    );
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("VMM refused 'CONNECT 2000'");
    expect(seen).toEqual(["CONNECT 1024\n", "CONNECT 2000\n"]);
    await new Promise((r) => vmm.close(r));
    rmSync(dir, { recursive: true });
  });
});

describe("agent process behaviour", () => {
  it("logs JSON lines and changes level on SIGUSR1/SIGUSR2 while running", async () => {
    const quiet = await startAgent({ env: { KATA_AGENT_LOG_LEVEL: "info" } });
    await quiet.health.check({});
    const calls = () => quiet.logs().filter((r) => r.msg === "call").length;
    expect(calls()).toBe(0);
    process.kill(quiet.pid, "SIGUSR1");
    await new Promise((r) => setTimeout(r, 200));
    await quiet.health.check({});
    await new Promise((r) => setTimeout(r, 100));
    expect(quiet.logs()).toContainEqual(
      expect.objectContaining({ msg: "log level raised", level: "info", newLevel: "debug" }),
    );
    expect(calls()).toBe(1);
    process.kill(quiet.pid, "SIGUSR2");
    await new Promise((r) => setTimeout(r, 200));
    await quiet.health.check({});
    await new Promise((r) => setTimeout(r, 100));
    expect(calls()).toBe(1);
    for (const record of quiet.logs())
      expect(record).toMatchObject({
        ts: expect.any(String),
        level: expect.any(String),
        msg: expect.any(String),
      });
    const { exitCode } = await quiet.stop();
    expect(exitCode).toBe(0);
    expect(quiet.logs().at(-1)).toMatchObject({ msg: "stopped" });
  });

  it("warns about unknown parameters and refuses bad values, naming them", async () => {
    const warned = await startAgent({ cmdline: "console=ttyS0 agent.frobnicate=1" });
    expect(warned.logs()).toContainEqual(
      expect.objectContaining({ level: "warn", msg: "unknown kernel parameter 'agent.frobnicate' ignored" }),
    );
    await warned.stop();
    const dir = mkdtempSync(path.join(tmpdir(), "bad-config-"));
    writeFileSync(path.join(dir, "cmdline"), "agent.hotplug_timeout=later");
    const bad = await execa(process.execPath, [agentBundle, "--cmdline", path.join(dir, "cmdline")], {
      reject: false,
    });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain(
      'agent.hotplug_timeout: invalid value "later": expected a number of seconds',
    );
    rmSync(dir, { recursive: true });
  });

  it("listens on AF_VSOCK and reports a taken port clearly", async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    // Host-to-guest vsock needs a VM; on the host, listening is what can be checked.
    const first = execa(process.execPath, [agentBundle, "--cmdline", "/dev/null"], {
      env: { KATA_AGENT_SERVER_ADDR: `vsock://-1:${port}` },
      reject: false,
    });
    await new Promise<void>((resolve) => {
      first.stderr?.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes('"agent ready"')) resolve();
      });
    });
    const second = await execa(process.execPath, [agentBundle, "--cmdline", "/dev/null"], {
      env: { KATA_AGENT_SERVER_ADDR: `vsock://-1:${port}` },
      reject: false,
    });
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toContain(`cannot listen on vsock://-1:${port}`);
    expect(second.stderr).toContain("EADDRINUSE");
    first.kill("SIGTERM");
    expect((await first).exitCode).toBe(0);
  });

  it("finishes calls in flight and exits cleanly on SIGTERM", async () => {
    const a = await startAgent();
    await a.health.check({});
    const { exitCode, signal } = await a.stop();
    expect({ exitCode, signal }).toEqual({ exitCode: 0, signal: undefined });
    expect(a.logs().map((r) => r.msg)).toEqual(expect.arrayContaining(["shutting down", "stopped"]));
  });
});
