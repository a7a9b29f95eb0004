// The ttrpc server's bounds against hostile clients, over real Unix sockets with raw frames:
// the number of connections, the bytes of requests held for all of them, connections that stop
// in the middle of a frame, and pipelined calls whose replies back up. A test router stands in
// for the agent's handlers; the limits are set small so the tests stay quick.
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AgentService, WriteStreamRequestSchema } from "../../../../agent/gen/agent_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../../../agent/gen/health_pb.js";
import { RequestSchema, ResponseSchema } from "../../../../agent/gen/ttrpc/ttrpc_pb.js";
import { Code } from "../../../../agent/src/client/index.js";
import { Router } from "../../../../agent/src/core/router.js";
import { Logger } from "../../../../agent/src/log.js";
import { encodeFrame, FrameDecoder, FrameType } from "../../../../agent/src/ttrpc/frame.js";
import { TtrpcServer, type TtrpcServerOptions } from "../../../../agent/src/ttrpc/server.js";

const KiB = 1024;
let dir: string;
const logs: Record<string, unknown>[] = [];
const cleanups: (() => Promise<void>)[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "ttrpc-limits-"));
});
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  logs.length = 0;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** WriteStdin blocks until its caller goes away when its data starts with "B"; else answers at once. */
function router(): Router {
  return new Router()
    .register(Health, { check: async () => ({ status: HealthCheckResponse_ServingStatus.SERVING }) })
    .register(AgentService, {
      writeStdin: async (req, ctx) => {
        if (req.data[0] === 0x42) {
          await new Promise((_, reject) =>
            ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)),
          );
        }
        return { len: req.data.length };
      },
      getMetrics: async () => ({ metrics: "m".repeat(64 * KiB) }),
    });
}

/** A server with `options` on a fresh socket; the server-side sockets are kept for inspection. */
async function serve(options: Partial<TtrpcServerOptions>) {
  const server = new TtrpcServer({
    router: router(),
    log: Logger.create("debug", (line) => logs.push(JSON.parse(line) as Record<string, unknown>)),
    ...options,
  });
  const sockets: net.Socket[] = [];
  const socketPath = path.join(dir, `s${cleanups.length}-${Date.now()}.sock`);
  const listener = net.createServer((s) => {
    sockets.push(s);
    server.serve(s);
  });
  await new Promise<void>((resolve) => listener.listen(socketPath, resolve));
  cleanups.push(async () => {
    await server.shutdown(0);
    await new Promise((r) => listener.close(r));
  });
  return { server, socketPath, sockets };
}

interface Reply {
  streamId: number;
  code: number;
  message: string;
}

/** A raw connection: sends frames, collects replies, notices being closed. */
async function connect(socketPath: string, options: { read?: boolean } = {}) {
  const socket = net.connect(socketPath);
  await new Promise((r) => socket.once("connect", r));
  const decoder = new FrameDecoder();
  const replies: Reply[] = [];
  let closed = false;
  socket.on("close", () => {
    closed = true;
  });
  socket.on("error", () => {});
  const onData = (chunk: Buffer) => {
    for (const f of decoder.push(chunk)) {
      if (f.kind !== "message") continue;
      const r = fromBinary(ResponseSchema, f.payload);
      replies.push({
        streamId: f.header.streamId,
        code: r.status?.code ?? 0,
        message: r.status?.message ?? "",
      });
    }
  };
  if (options.read !== false) socket.on("data", onData);
  else socket.pause();
  cleanups.push(async () => {
    socket.destroy();
  });
  return {
    socket,
    replies,
    get closed() {
      return closed;
    },
    startReading() {
      socket.on("data", onData);
      socket.resume();
    },
    send(streamId: number, body: Uint8Array) {
      socket.write(encodeFrame(streamId, FrameType.Request, body));
    },
    async reply(streamId: number, ms = 5000): Promise<Reply | undefined> {
      for (const until = Date.now() + ms; Date.now() < until; await sleep(10)) {
        const r = replies.find((x) => x.streamId === streamId);
        if (r) return r;
      }
      return undefined;
    },
  };
}

const request = (service: string, method: string, payload = new Uint8Array()) =>
  toBinary(RequestSchema, create(RequestSchema, { service, method, payload }));
const check = () => request("grpc.Health", "Check");
/** A WriteStdin request of about `bytes`; "B" data blocks until the caller goes away. */
const writeStdin = (bytes: number, fill: "A" | "B") =>
  request(
    "grpc.AgentService",
    "WriteStdin",
    toBinary(
      WriteStreamRequestSchema,
      create(WriteStreamRequestSchema, { containerId: "c", execId: "c", data: Buffer.alloc(bytes, fill) }),
    ),
  );

describe("ttrpc server limits", () => {
  it("closes connections beyond the limit at once, with a log line, and serves the others", async () => {
    const { socketPath } = await serve({ maxConnections: 3 });
    const conns = [];
    for (let i = 0; i < 5; i++) conns.push(await connect(socketPath));
    await sleep(200);
    expect(conns.map((c) => c.closed)).toEqual([false, false, false, true, true]);
    expect(logs.filter((l) => l.msg === "too many connections: closing a new one")).toHaveLength(2);
    for (const c of conns.slice(0, 3)) c.send(1, check());
    for (const c of conns.slice(0, 3)) expect(await c.reply(1)).toMatchObject({ code: Code.OK });
    // A closed one frees its place.
    conns[0]!.socket.destroy();
    await sleep(100);
    const again = await connect(socketPath);
    again.send(1, check());
    expect(await again.reply(1)).toMatchObject({ code: Code.OK });
  });

  it("refuses a frame the shared budget cannot hold, skips its body, and keeps the connection", async () => {
    const { server, socketPath } = await serve({ receiveBudget: 600 * KiB });
    const holder = await connect(socketPath);
    holder.send(1, writeStdin(590 * KiB, "B"));
    await sleep(200);
    expect(server.receivedBytesHeld).toBeGreaterThan(590 * KiB);
    const other = await connect(socketPath);
    other.send(1, writeStdin(100 * KiB, "A"));
    expect(await other.reply(1)).toMatchObject({
      code: Code.ResourceExhausted,
      message: expect.stringMatching(/retry when calls in flight have finished/),
    });
    // The refused body was skipped, not taken for frames: the next frame is read and served,
    // and a small one gets through although the budget is spent.
    other.send(3, writeStdin(20 * KiB, "A"));
    other.send(5, check());
    expect(await other.reply(3)).toMatchObject({ code: Code.OK });
    expect(await other.reply(5)).toMatchObject({ code: Code.OK });
    // The holder goes away: its bytes come back, and the large frame fits now.
    holder.socket.destroy();
    await sleep(100);
    expect(server.receivedBytesHeld).toBe(0);
    other.send(7, writeStdin(100 * KiB, "A"));
    expect(await other.reply(7)).toMatchObject({ code: Code.OK });
    expect(server.receivedBytesHeld).toBe(0);
  });

  it("closes a connection that stops in the middle of a frame, and only that one", async () => {
    const { server, socketPath } = await serve({ partialFrameTimeoutMs: 300 });
    const stalled = await connect(socketPath);
    const frame = encodeFrame(1, FrameType.Request, writeStdin(200 * KiB, "A"));
    stalled.socket.write(frame.subarray(0, 100 * KiB));
    // A slow sender that keeps making progress is not stalled.
    const slow = await connect(socketPath);
    const slowFrame = encodeFrame(1, FrameType.Request, check());
    for (const byte of slowFrame) {
      slow.socket.write(Buffer.from([byte]));
      await sleep(20);
    }
    expect(await slow.reply(1)).toMatchObject({ code: Code.OK });
    for (const until = Date.now() + 3000; !stalled.closed && Date.now() < until; ) await sleep(20);
    expect(stalled.closed).toBe(true);
    expect(slow.closed).toBe(false);
    expect(logs.find((l) => l.msg === "closing a connection stalled in the middle of a frame")).toMatchObject(
      {
        level: "warn",
        ms: 300,
      },
    );
    await sleep(50);
    expect(server.receivedBytesHeld).toBe(0);
  });

  it("stops reading a connection whose replies back up, with one drain listener, and answers every call", async () => {
    const { socketPath, sockets } = await serve({});
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      const c = await connect(socketPath, { read: false });
      const calls = 3000;
      const frames = [];
      for (let i = 0; i < calls; i++) {
        frames.push(encodeFrame(2 * i + 1, FrameType.Request, request("grpc.AgentService", "GetMetrics")));
      }
      c.socket.write(Buffer.concat(frames));
      await sleep(1000);
      const serverSide = sockets[0]!;
      // About 8 MiB of replies queue before the server stops reading; not all 1024 calls' worth.
      expect(serverSide.isPaused()).toBe(true);
      expect(serverSide.listenerCount("drain")).toBeLessThanOrEqual(2);
      c.startReading();
      for (const until = Date.now() + 20_000; c.replies.length < calls && Date.now() < until; )
        await sleep(50);
      expect(c.replies).toHaveLength(calls);
      expect(new Set(c.replies.map((r) => r.code))).toEqual(new Set([Code.OK, Code.ResourceExhausted]));
      expect(serverSide.isPaused()).toBe(false);
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.map((w) => w.name)).not.toContain("MaxListenersExceededWarning");
    // Of 1976 protocol faults (calls beyond 1024 in flight), ten are warnings.
    expect(logs.filter((l) => l.msg === "protocol fault" && l.level === "warn")).toHaveLength(10);
  });
});
