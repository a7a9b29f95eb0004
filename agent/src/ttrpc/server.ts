// ttrpc server: reads frames from any Duplex (the transport layer's business), dispatches
// requests through the Router, and answers each on its own stream id. Many calls run at once
// on one connection; a blocked ReadStdout never holds back a Health.Check behind it.
import type { Duplex } from "node:stream";
import { create, toBinary } from "@bufbuild/protobuf";
import { ResponseSchema } from "../../gen/ttrpc/ttrpc_pb.js";
import { Code } from "../core/code.js";
import type { HandlerContext } from "../core/context.js";
import { AgentError } from "../core/error.js";
import type { Route, Router } from "../core/router.js";
import { timerDelay } from "../core/timer.js";
import { varint } from "../core/varint.js";
import type { Logger } from "../log.js";
import { decodeRequest, type RequestEnvelope as Request } from "./envelope.js";
import {
  encodeFrame,
  type Frame,
  FrameDecoder,
  FrameType,
  HEADER_LENGTH,
  MESSAGE_LENGTH_MAX,
} from "./frame.js";
import { toStatus } from "./status.js";

export interface TtrpcServerOptions {
  router: Router;
  log: Logger;
  /** Calls one connection may have in flight before new ones are refused (RESOURCE_EXHAUSTED). */
  maxStreamsPerConnection?: number;
}

const NO_METADATA: ReadonlyMap<string, readonly string[]> = new Map();
/** Bytes of replies queued for a slow reader before we stop reading its requests. */
const WRITE_BACKLOG_LIMIT = 8 << 20;

export class TtrpcServer {
  private readonly connections = new Set<ServerConnection>();
  private shuttingDown = false;

  constructor(private readonly options: TtrpcServerOptions) {}

  /** Serves one accepted connection until either side closes it. */
  serve(socket: Duplex, peer = "unknown"): void {
    const conn = new ServerConnection(socket, peer, this.options, () => this.shuttingDown);
    this.connections.add(conn);
    socket.once("close", () => this.connections.delete(conn));
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  get callsInFlight(): number {
    let n = 0;
    for (const c of this.connections) n += c.callsInFlight;
    return n;
  }

  /**
   * Refuses new calls (UNAVAILABLE), lets calls in flight finish for up to `graceMs`, then
   * closes every connection, which cancels whatever is still running.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.shuttingDown = true;
    const deadline = Date.now() + graceMs;
    while (this.callsInFlight > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const conn of this.connections) conn.close();
  }
}

/** A protocol fault answered on its stream, or a frame that is dropped. */
type Classified =
  | { kind: "call"; streamId: number; request: Request; route: Route }
  | { kind: "fault"; streamId: number; error: AgentError }
  | { kind: "ignore"; reason: string };

class ServerConnection {
  private readonly decoder = new FrameDecoder();
  /** Calls in flight, by stream id; aborting one cancels its handler. */
  private readonly streams = new Map<number, Call>();
  private readonly log: Logger;
  private readonly maxStreams: number;
  private closed = false;

  constructor(
    private readonly socket: Duplex,
    peer: string,
    private readonly options: TtrpcServerOptions,
    private readonly shuttingDown: () => boolean,
  ) {
    this.log = options.log.child({ subsystem: "ttrpc", peer });
    this.maxStreams = options.maxStreamsPerConnection ?? 1024;
    socket.on("data", (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) this.onFrame(frame);
    });
    socket.resume();
    // Only socket errors end a connection; a bad frame is answered and reading goes on.
    socket.on("error", (err) => this.log.debug("connection error", { error: err }));
    socket.once("close", () => this.onClose());
    this.log.debug("connection accepted");
  }

  get callsInFlight(): number {
    return this.streams.size;
  }

  close(): void {
    this.socket.destroy();
  }

  private onClose(): void {
    this.closed = true;
    for (const call of this.streams.values()) call.abort(new DOMException("connection closed", "AbortError"));
    this.streams.clear();
    this.log.debug("connection closed");
  }

  private onFrame(frame: Frame): void {
    const c = this.classify(frame);
    switch (c.kind) {
      case "ignore":
        this.log.debug("frame ignored", { reason: c.reason });
        return;
      case "fault":
        this.log.warn("protocol fault", { stream: c.streamId, code: c.error.code, error: c.error.message });
        this.respond(c.streamId, c.error);
        return;
      case "call":
        void this.run(c.streamId, c.request, c.route);
    }
  }

  /** Every fault a frame can carry, decided in one place, each answered on the frame's stream. */
  private classify(frame: Frame): Classified {
    const { streamId, type, length } = frame.header;
    if (frame.kind === "oversized") {
      return fault(
        streamId,
        Code.InvalidArgument,
        `message length ${length} exceed maximum message size of ${MESSAGE_LENGTH_MAX}`,
      );
    }
    if (type !== FrameType.Request) return { kind: "ignore", reason: `unexpected frame type ${type}` };
    if (streamId % 2 === 0) return fault(streamId, Code.InvalidArgument, "stream id must be odd");
    if (this.streams.has(streamId)) {
      return fault(
        streamId,
        Code.InvalidArgument,
        `stream id ${streamId} is already in use by a call in flight`,
      );
    }
    let request: Request;
    try {
      request = decodeRequest(frame.payload);
    } catch (err) {
      return fault(streamId, Code.InvalidArgument, `malformed ttrpc request: ${(err as Error).message}`);
    }
    if (this.shuttingDown()) return fault(streamId, Code.Unavailable, "agent is shutting down");
    if (this.streams.size >= this.maxStreams) {
      return fault(
        streamId,
        Code.ResourceExhausted,
        `more than ${this.maxStreams} calls in flight on one connection`,
      );
    }
    const found = this.options.router.lookup(request.service, request.method);
    if ("missing" in found) {
      return found.missing === "service"
        ? fault(streamId, Code.InvalidArgument, `${request.service} service does not exist`)
        : fault(streamId, Code.Unimplemented, `/${request.service}/${request.method} method does not exist`);
    }
    return { kind: "call", streamId, request, route: found.route };
  }

  private async run(streamId: number, request: Request, route: Route): Promise<void> {
    const call = new Call();
    this.streams.set(streamId, call);
    const started = performance.now();
    const timeoutMs = timerDelay(Number(request.timeoutNano) / 1e6);
    let timer: NodeJS.Timeout | undefined;
    let deadline: number | undefined;
    const expired = new Promise<AgentError>((resolve) => {
      if (timeoutMs !== undefined) {
        deadline = Date.now() + timeoutMs;
        timer = setTimeout(() => {
          call.abort(new DOMException("timeout", "TimeoutError"));
          resolve(new AgentError(Code.DeadlineExceeded, "timeout"));
        }, timeoutMs);
      }
    });
    const ctx: HandlerContext = {
      method: route.path,
      // Created on first use: most calls never wait, and an AbortController per call shows
      // up in the profile of a stream of ReadStdout calls.
      get signal() {
        return call.signal;
      },
      ...(deadline !== undefined ? { deadline } : {}),
      metadata: request.metadata.length ? toMetadata(request) : NO_METADATA,
      log: this.options.log,
    };
    let outcome: Uint8Array[] | AgentError;
    try {
      const handled = route.handle(route.decode(request.payload), ctx).then((reply) => route.encode(reply));
      // After the deadline a late result is dropped; the handler has seen the abort.
      outcome = timer ? await Promise.race([handled, expired]) : await handled;
    } catch (err) {
      outcome = AgentError.from(err);
    } finally {
      clearTimeout(timer);
      this.streams.delete(streamId);
    }
    if (this.closed) return;
    this.respond(streamId, outcome);
    if (this.log.enabled("debug")) {
      this.log.debug("call", {
        method: route.path,
        stream: streamId,
        ms: Math.round((performance.now() - started) * 1000) / 1000,
        code: outcome instanceof AgentError ? outcome.code : Code.OK,
        ...(outcome instanceof AgentError ? { error: outcome.message } : {}),
      });
    }
  }

  /** The one place frames are written; writes queue on the socket in call order. */
  private respond(streamId: number, outcome: Uint8Array[] | AgentError): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    let frame: Buffer[];
    if (outcome instanceof AgentError) {
      frame = [encodeFrame(streamId, FrameType.Response, errorResponse(outcome))];
    } else if (RESPONSE_OVERHEAD + byteLength(outcome) > MESSAGE_LENGTH_MAX) {
      const tooBig = new AgentError(
        Code.InvalidArgument,
        `response of ${byteLength(outcome)} bytes exceeds maximum message size of ${MESSAGE_LENGTH_MAX}`,
      );
      frame = [encodeFrame(streamId, FrameType.Response, errorResponse(tooBig))];
    } else {
      // Response{status: OK, payload} laid out by hand around the handler's encoded reply, so
      // a 32 KiB ReadStdout reply is not copied into an envelope and again into a frame.
      frame = okFrame(streamId, outcome);
    }
    let flowing = true;
    if (frame.length === 1) flowing = this.socket.write(frame[0]!);
    else {
      this.socket.cork();
      for (const part of frame) flowing = this.socket.write(part);
      this.socket.uncork();
    }
    // Backpressure: a peer that stops reading stops us reading its requests, instead of
    // letting replies pile up in memory. (Not at the socket's 16 KiB mark: a single 32 KiB
    // ReadStdout reply passes that, and pausing there costs a round trip per reply.)
    if (!flowing && this.socket.writableLength > WRITE_BACKLOG_LIMIT) {
      this.socket.pause();
      this.socket.once("drain", () => this.socket.resume());
    }
  }
}

/** A call in flight: its AbortSignal exists only if the handler asked for it. */
class Call {
  private controller: AbortController | undefined;
  private reason: unknown;
  private aborted = false;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

/** Field 1 (status) = empty message (OK), then field 2 (payload): tag, length, bytes. */
const OK_STATUS_BYTES = [0x0a, 0x00];
const RESPONSE_OVERHEAD = OK_STATUS_BYTES.length + 1 + 5;

const byteLength = (parts: Uint8Array[]) => parts.reduce((n, p) => n + p.length, 0);

function okFrame(streamId: number, payload: Uint8Array[]): Buffer[] {
  const length = byteLength(payload);
  // An empty payload is left out, as a protobuf encoder would.
  const envelope = length ? [...OK_STATUS_BYTES, 0x12, ...varint(length)] : OK_STATUS_BYTES;
  const head = Buffer.allocUnsafe(HEADER_LENGTH + envelope.length);
  head.writeUInt32BE(envelope.length + length, 0);
  head.writeUInt32BE(streamId, 4);
  head[8] = FrameType.Response;
  head[9] = 0;
  head.set(envelope, HEADER_LENGTH);
  return [head, ...payload.filter((p) => p.length).map((p) => Buffer.from(p.buffer, p.byteOffset, p.length))];
}

function errorResponse(err: AgentError): Uint8Array {
  return toBinary(ResponseSchema, create(ResponseSchema, { status: toStatus(err) }));
}

function fault(streamId: number, code: Code, message: string): Classified {
  return { kind: "fault", streamId, error: new AgentError(code, message) };
}

function toMetadata(request: Request): Map<string, string[]> {
  const md = new Map<string, string[]>();
  for (const { key, value } of request.metadata) {
    const k = key.toLowerCase();
    const values = md.get(k);
    if (values) values.push(value);
    else md.set(k, [value]);
  }
  return md;
}
