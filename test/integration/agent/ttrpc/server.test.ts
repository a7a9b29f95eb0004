// The ttrpc server over a real Unix socket, driven by containerd's Go ttrpc client and by raw
// frames. A test router stands in for the agent's handlers so calls can be made to block.
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentService } from "../../../../agent/gen/agent_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../../../agent/gen/health_pb.js";
import { RequestSchema, ResponseSchema } from "../../../../agent/gen/ttrpc/ttrpc_pb.js";
import { Code } from "../../../../agent/src/client/index.js";
import { Router } from "../../../../agent/src/core/router.js";
import { Logger } from "../../../../agent/src/log.js";
import {
  encodeFrame,
  FrameDecoder,
  FrameType,
  MESSAGE_LENGTH_MAX,
} from "../../../../agent/src/ttrpc/frame.js";
import { TtrpcServer } from "../../../../agent/src/ttrpc/server.js";
import { asConcurrentResult, buildGoPeers, runGoClient } from "../../../helpers/peers.js";

let dir: string;
let socketPath: string;
let server: net.Server;
let ttrpc: TtrpcServer;
const aborted: string[] = [];

/** Resolves when the signal aborts, recording why. */
function untilAborted(signal: AbortSignal, label: string): Promise<never> {
  return new Promise((_, reject) => {
    signal.addEventListener("abort", () => {
      aborted.push(`${label}:${(signal.reason as Error).name}`);
      reject(signal.reason);
    });
  });
}

beforeAll(async () => {
  await buildGoPeers();
  dir = mkdtempSync(path.join(tmpdir(), "ttrpc-server-"));
  socketPath = path.join(dir, "s.sock");
  const router = new Router()
    .register(Health, {
      check: async () => ({ status: HealthCheckResponse_ServingStatus.SERVING }),
      version: async () => ({ grpcVersion: "0.0.1", agentVersion: "test" }),
    })
    .register(AgentService, {
      // Blocks until the caller's deadline or disconnect: stands in for WaitProcess/ReadStdout.
      waitProcess: async (req, ctx) => untilAborted(ctx.signal, `wait-${req.execId}`),
      readStdout: async (_req, ctx) => untilAborted(ctx.signal, "read"),
      // Answers after a short delay, to check replies can overtake each other.
      signalProcess: async (req) => {
        await new Promise((r) => setTimeout(r, req.signal));
        return {};
      },
      // A reply bigger than a frame may carry.
      getMetrics: async () => ({ metrics: "x".repeat(MESSAGE_LENGTH_MAX + 10) }),
    });
  ttrpc = new TtrpcServer({ router, log: Logger.create("critical") });
  server = net.createServer((socket) => ttrpc.serve(socket));
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});

afterAll(async () => {
  await ttrpc.shutdown(0);
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

/** A raw connection that sends frames and collects decoded responses. */
async function rawConnection() {
  const socket = net.connect(socketPath);
  await new Promise((r) => socket.once("connect", r));
  const decoder = new FrameDecoder();
  const replies: { streamId: number; code: number; message: string; payload: Uint8Array }[] = [];
  let waiters: (() => void)[] = [];
  socket.on("data", (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      if (frame.kind !== "message") continue;
      const r = fromBinary(ResponseSchema, frame.payload);
      replies.push({
        streamId: frame.header.streamId,
        code: r.status?.code ?? 0,
        message: r.status?.message ?? "",
        payload: r.payload,
      });
    }
    for (const w of waiters) w();
    waiters = [];
  });
  const closed = new Promise<void>((r) => socket.once("close", () => r()));
  return {
    socket,
    replies,
    closed,
    send: (streamId: number, body: Uint8Array, type = FrameType.Request) =>
      socket.write(encodeFrame(streamId, type, body)),
    async waitFor(n: number, ms = 5000) {
      const until = Date.now() + ms;
      while (replies.length < n && Date.now() < until) {
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
      return replies;
    },
  };
}

const request = (service: string, method: string, payload = new Uint8Array(), timeoutNano = 0n) =>
  toBinary(RequestSchema, create(RequestSchema, { service, method, payload, timeoutNano }));

describe("ttrpc server against containerd's Go client", () => {
  it("answers Check and Version", async () => {
    const check = await runGoClient(`unix://${socketPath}`, ["check"]);
    expect(check.exitCode).toBe(0);
    expect(check.json).toMatchObject({ status: "SERVING" });
    const version = await runGoClient(`unix://${socketPath}`, ["version"]);
    expect(version.json).toMatchObject({ grpc_version: "0.0.1", agent_version: "test" });
  });

  it("answers a method without a handler with UNIMPLEMENTED and an unknown service with INVALID_ARGUMENT", async () => {
    const unimpl = await runGoClient(`unix://${socketPath}`, [
      "call",
      "grpc.AgentService",
      "CreateContainer",
      "{}",
    ]);
    expect(unimpl.exitCode).toBe(1);
    expect(unimpl.error).toMatchObject({ codeNumber: Code.Unimplemented });
    const unknownMethod = await runGoClient(`unix://${socketPath}`, ["call", "grpc.Health", "Nope", "{}"]);
    expect(unknownMethod.error).toMatchObject({ codeNumber: Code.Unimplemented });
    const unknownService = await runGoClient(`unix://${socketPath}`, ["call", "grpc.Nothing", "Check", "{}"]);
    expect(unknownService.error).toMatchObject({
      codeNumber: Code.InvalidArgument,
      message: "grpc.Nothing service does not exist",
    });
  });

  it("honours timeout_nano with DEADLINE_EXCEEDED and cancels the handler", async () => {
    const r = await runGoClient(
      `unix://${socketPath}`,
      [
        "call",
        "grpc.AgentService",
        "WaitProcess",
        JSON.stringify({ container_id: "c", exec_id: "deadline" }),
      ],
      { timeout: "300ms", grace: "2s" },
    );
    expect(r.error).toMatchObject({ codeNumber: Code.DeadlineExceeded, message: "timeout" });
    expect(r.error?.local).toBeFalsy();
    expect(aborted).toContain("wait-deadline:TimeoutError");
  });

  it("keeps Health.Check prompt while a call blocks on the same connection", async () => {
    const r = await runGoClient(`unix://${socketPath}`, [
      "concurrent",
      "--blocking-method",
      "WaitProcess",
      "--blocking-request",
      JSON.stringify({ container_id: "c", exec_id: "blocker" }),
      "--checks",
      "5",
      "--interval",
      "300ms",
    ]);
    const result = asConcurrentResult(r.json);
    expect(result.checks).toHaveLength(5);
    expect(result.checks.every((c) => c.ok && c.blockingPending)).toBe(true);
    // The blocked call never answered; when the client went away its handler was cancelled.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(aborted).toContain("wait-blocker:AbortError");
  });
});

describe("ttrpc server with malformed input", () => {
  it("answers each fault on its stream and keeps serving the connection", async () => {
    const c = await rawConnection();
    c.send(2, request("grpc.Health", "Check")); // even stream id
    c.send(3, Buffer.from([0xff, 0xff, 0xff])); // not a Request
    c.send(5, request("grpc.AgentService", "WaitProcess", Buffer.from([0x0a, 0x80]))); // truncated payload
    c.send(7, request("grpc.Health", "Check"), FrameType.Data); // not a request frame: ignored
    c.send(9, request("grpc.Health", "Check"), 0x7f as FrameType); // unknown type: ignored
    c.send(11, request("grpc.Health", "Check"));
    const replies = await c.waitFor(4);
    const byStream = new Map(replies.map((r) => [r.streamId, r]));
    expect(byStream.get(2)).toMatchObject({ code: Code.InvalidArgument, message: "stream id must be odd" });
    expect(byStream.get(3)).toMatchObject({ code: Code.InvalidArgument });
    expect(byStream.get(3)?.message).toMatch(/^malformed ttrpc request/);
    expect(byStream.get(5)).toMatchObject({ code: Code.InvalidArgument });
    expect(byStream.get(5)?.message).toMatch(/^cannot decode grpc\.WaitProcessRequest/);
    expect(byStream.has(7)).toBe(false);
    expect(byStream.has(9)).toBe(false);
    expect(byStream.get(11)).toMatchObject({ code: Code.OK });
    c.socket.destroy();
  });

  it("skips an oversized frame's body, answers it, and reads the next frame", async () => {
    const c = await rawConnection();
    const header = Buffer.alloc(10);
    header.writeUInt32BE(MESSAGE_LENGTH_MAX + 1, 0);
    header.writeUInt32BE(1, 4);
    header[8] = FrameType.Request;
    c.socket.write(Buffer.concat([header, Buffer.alloc(MESSAGE_LENGTH_MAX + 1, 0x41)]));
    c.send(3, request("grpc.Health", "Check"));
    const replies = await c.waitFor(2, 10_000);
    expect(replies[0]).toMatchObject({
      streamId: 1,
      code: Code.InvalidArgument,
      message: `message length ${MESSAGE_LENGTH_MAX + 1} exceed maximum message size of ${MESSAGE_LENGTH_MAX}`,
    });
    expect(replies[1]).toMatchObject({ streamId: 3, code: Code.OK });
    c.socket.destroy();
  });

  it("refuses a stream id already in flight, and a reply too large to frame", async () => {
    const c = await rawConnection();
    c.send(1, request("grpc.AgentService", "ReadStdout"));
    c.send(1, request("grpc.Health", "Check"));
    c.send(3, request("grpc.AgentService", "GetMetrics"));
    const replies = await c.waitFor(2);
    expect(replies.find((r) => r.streamId === 1)).toMatchObject({ code: Code.InvalidArgument });
    expect(replies.find((r) => r.streamId === 3)?.message).toMatch(/exceeds maximum message size/);
    c.socket.destroy();
  });

  it("returns replies in completion order, not request order", async () => {
    const c = await rawConnection();
    const signalReq = (ms: number) => request("grpc.AgentService", "SignalProcess", Buffer.from([0x18, ms])); // field 3 (signal) = ms
    c.send(1, signalReq(120));
    c.send(3, signalReq(10));
    c.send(5, request("grpc.Health", "Check"));
    const replies = await c.waitFor(3);
    expect(replies.map((r) => r.streamId)).toEqual([5, 3, 1]);
    c.socket.destroy();
  });

  it("survives a connection that sends half a frame and hangs up, and serves other clients meanwhile", async () => {
    const bad = await rawConnection();
    bad.socket.write(encodeFrame(1, FrameType.Request, request("grpc.Health", "Check")).subarray(0, 15));
    const good = await runGoClient(`unix://${socketPath}`, ["check"]);
    expect(good.exitCode).toBe(0);
    bad.socket.destroy();
    await bad.closed;
    const again = await runGoClient(`unix://${socketPath}`, ["check"]);
    expect(again.exitCode).toBe(0);
  });

  it("limits calls in flight per connection with RESOURCE_EXHAUSTED", async () => {
    const limited = new TtrpcServer({
      router: new Router().register(AgentService, {
        readStdout: async (_r, ctx) => untilAborted(ctx.signal, "limited"),
      }),
      log: Logger.create("critical"),
      maxStreamsPerConnection: 3,
    });
    const pair = await new Promise<[net.Socket, net.Server]>((resolve) => {
      const srv = net.createServer((s) => limited.serve(s));
      const p = path.join(dir, "limited.sock");
      srv.listen(p, () => {
        const client = net.connect(p, () => resolve([client, srv]));
      });
    });
    const [client, srv] = pair;
    const decoder = new FrameDecoder();
    const codes: number[] = [];
    client.on("data", (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) {
        if (f.kind === "message") codes.push(fromBinary(ResponseSchema, f.payload).status?.code ?? -1);
      }
    });
    for (const id of [1, 3, 5, 7])
      client.write(encodeFrame(id, FrameType.Request, request("grpc.AgentService", "ReadStdout")));
    await new Promise((r) => setTimeout(r, 300));
    expect(codes).toEqual([Code.ResourceExhausted]);
    client.destroy();
    await limited.shutdown(0);
    await new Promise((r) => srv.close(r));
  });
});
