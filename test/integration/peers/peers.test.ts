// Self-test of the independent protocol peers, without our agent: the Go ttrpc client against the Go
// reference server (both containerd's ttrpc), and the Python gRPC client's build and error output.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  asBenchResult,
  asConcurrentResult,
  buildGoPeers,
  buildPythonPeer,
  type GoHealthServer,
  runGoClient,
  runPythonClient,
  startGoHealthServer,
} from "../../helpers/peers.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "kata-peers-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("Go ttrpc peers", () => {
  let server: GoHealthServer;
  let slow: GoHealthServer;

  beforeAll(async () => {
    const peers = await buildGoPeers();
    expect(path.basename(peers.client)).toBe("kata-ttrpc-client");
    server = await startGoHealthServer(`unix://${dir}/health.sock`);
    // Version answers after 5 s: a stand-in for the agent's blocking calls.
    slow = await startGoHealthServer(`unix://${dir}/slow.sock`, ["--version-delay", "5s"]);
  });

  afterAll(async () => {
    await Promise.all([server?.stop(), slow?.stop()]);
  });

  it("check", async () => {
    const r = await runGoClient(server.addr, ["check"]);
    expect(r.exitCode).toBe(0);
    expect(r.json).toEqual({ status: "SERVING" });
  });

  it("version", async () => {
    const r = await runGoClient(server.addr, ["version"]);
    expect(r.exitCode).toBe(0);
    expect(r.json).toEqual({ grpc_version: "0.0.1", agent_version: "go-reference" });
  });

  it("call with a JSON request", async () => {
    const r = await runGoClient(server.addr, ["call", "grpc.Health", "Check", '{"service":"x"}'], {
      timeout: "2s",
    });
    expect(r.exitCode).toBe(0);
    expect(r.json).toEqual({ status: "SERVING" });
  });

  it("call of an unknown method reaches the server and reports Unimplemented", async () => {
    const r = await runGoClient(server.addr, ["call", "grpc.Health", "Nope", "{}"]);
    expect(r.exitCode).toBe(1);
    expect(r.error).toEqual({ code: "Unimplemented", codeNumber: 12, message: "method Nope" });
  });

  it("call with an invalid request JSON is a usage error", async () => {
    const r = await runGoClient(server.addr, ["call", "grpc.AgentService", "ReadStdout", '{"nope":1}']);
    expect(r.exitCode).toBe(2);
    expect(r.error).toMatchObject({ code: "InvalidArgument", local: true });
  });

  it("knows all 44 methods", async () => {
    const r = await runGoClient("", ["methods"]);
    expect(r.exitCode).toBe(0);
    expect(r.json.count).toBe(44);
  });

  it("bench", async () => {
    const r = await runGoClient(server.addr, ["bench", "--n", "2000"]);
    expect(r.exitCode).toBe(0);
    expect(Object.keys(r.json).sort()).toEqual([
      "calls",
      "callsPerSec",
      "meanus",
      "p50us",
      "p99us",
      "seconds",
    ]);
    const b = asBenchResult(r.json);
    expect(b.calls).toBe(2000);
    expect(b.callsPerSec).toBeGreaterThan(0);
    expect(b.p50us).toBeGreaterThan(0);
    expect(b.p99us).toBeGreaterThanOrEqual(b.p50us);
  });

  it("concurrent: Checks are answered while a slow call is pending on the same connection", async () => {
    const r = await runGoClient(slow.addr, [
      "concurrent",
      "--blocking-service",
      "grpc.Health",
      "--blocking-method",
      "Version",
      "--checks",
      "3",
      "--interval",
      "100ms",
    ]);
    expect(r.exitCode).toBe(0);
    const c = asConcurrentResult(r.json);
    expect(c.checks).toHaveLength(3);
    expect(c.allChecksOk).toBe(true);
    expect(c.blockingPendingThroughout).toBe(true);
    expect(c.blocking.pending).toBe(true);
  });

  it("--timeout is sent as timeout_nano: with --grace the server's own deadline error comes back", async () => {
    const r = await runGoClient(slow.addr, ["version"], { timeout: "300ms", grace: "2s" });
    expect(r.exitCode).toBe(1);
    expect(r.error).toMatchObject({ code: "DeadlineExceeded", codeNumber: 4 });
    expect(r.error?.local).toBeUndefined();
  });

  it("abstract unix socket", async () => {
    const abstract = await startGoHealthServer(`unix://@kata-peers-${process.pid}-${Date.now()}`);
    try {
      const r = await runGoClient(abstract.addr, ["check"]);
      expect(r.json).toEqual({ status: "SERVING" });
    } finally {
      await abstract.stop();
    }
  });

  it("--stream-bytes: ReadStdout hands out that many bytes per exec, at most len per call, then EOF", async () => {
    const stream = await startGoHealthServer(`unix://${dir}/stream.sock`, ["--stream-bytes", "100000"]);
    try {
      const args = ["read-stream", "--container-id", "c1", "--len", "32768"];
      const first = await runGoClient(stream.addr, args);
      // 3 full reads, 1696 bytes, then the empty reply.
      expect(first.json).toMatchObject({ bytes: 100000, calls: 5 });
      const again = await runGoClient(stream.addr, args);
      expect(again.json).toMatchObject({ bytes: 0, calls: 1 });
      const other = await runGoClient(stream.addr, ["read-stream", "--container-id", "c2", "--len", "65536"]);
      expect(other.json).toMatchObject({ bytes: 100000, calls: 3 });
    } finally {
      await stream.stop();
    }
  });

  it("connection errors are local Unavailable errors", async () => {
    const r = await runGoClient(`unix://${dir}/missing.sock`, ["check"]);
    expect(r.exitCode).toBe(3);
    expect(r.error).toMatchObject({ code: "Unavailable", codeNumber: 14, local: true });
    expect(r.error?.message).toContain("missing.sock");
  });
});

describe("Python gRPC peer", () => {
  it("builds and reports a missing socket clearly", async () => {
    const { script } = await buildPythonPeer();
    expect(path.basename(script)).toBe("grpc_client.py");
    const r = await runPythonClient(`unix:${dir}/missing.sock`, ["check"], { timeout: "5s" });
    expect(r.exitCode).toBe(1);
    expect(r.error).toMatchObject({ code: "UNAVAILABLE", codeNumber: 14 });
    expect(r.error?.message).toContain("missing.sock");
  });

  it("rejects request JSON that does not match the message", async () => {
    const r = await runPythonClient(`unix:${dir}/missing.sock`, [
      "call",
      "grpc.Health",
      "Check",
      '{"nope":1}',
    ]);
    expect(r.exitCode).toBe(2);
    expect(r.error).toMatchObject({ code: "INVALID_ARGUMENT", codeNumber: 3 });
  });
});
