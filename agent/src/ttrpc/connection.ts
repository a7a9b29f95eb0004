// One ttrpc connection of the server: frames in (each charged to the server's shared receive
// budget or to this connection's small allowance), calls dispatched through the Router and run
// concurrently, each answered on its own stream id, protocol faults classified in one place, and
// reading paused while replies or large requests back up.
import type { Duplex } from "node:stream";
import { Code } from "../core/code.js";
import type { HandlerContext } from "../core/context.js";
import { AgentError } from "../core/error.js";
import type { Route, Router } from "../core/router.js";
import { timerDelay } from "../core/timer.js";
import type { Logger } from "../log.js";
import { noteReceived, noteReleased } from "../util/reclaim.js";
import { Call } from "./call.js";
import { decodeRequest, type RequestEnvelope as Request } from "./envelope.js";
import {
  encodeFrame,
  type Frame,
  FrameDecoder,
  type FrameHeader,
  FrameType,
  MESSAGE_LENGTH_MAX,
} from "./frame.js";
import type { ReceiveBudget } from "./receive-budget.js";
import { byteLength, errorResponse, okFrame, RESPONSE_OVERHEAD } from "./reply.js";

const NO_METADATA: ReadonlyMap<string, readonly string[]> = new Map();
/** Bytes of replies queued for a slow reader before we stop reading its requests. */
const WRITE_BACKLOG_LIMIT = 8 << 20;
/**
 * Request bytes one connection's calls in flight may hold before we stop reading it until some
 * finish: a client pipelining large requests that cannot complete (writes to the stdin of a
 * process that does not read) waits, as a writer to a full pipe does, instead of filling the
 * budget that every connection shares.
 */
const IN_FLIGHT_LIMIT = MESSAGE_LENGTH_MAX;
/**
 * A frame this small is taken in even when the shared budget is spent, one per connection at a
 * time: Health.Check and the runtime's ordinary calls still get through while other clients
 * hold the budget (at most maxConnections x 64 KiB beyond it).
 */
const SMALL_FRAME = 64 << 10;
/** Protocol faults per connection logged as warnings before the rest go to the debug level. */
const FAULTS_WARNED = 10;

export interface Limits {
  maxStreams: number;
  maxConnections: number;
  partialFrameTimeoutMs: number;
}

export interface ConnectionOptions {
  router: Router;
  log: Logger;
  limits: Limits;
  budget: ReceiveBudget;
  shuttingDown: () => boolean;
}

/** What a frame's bytes cost: drawn from the shared budget, or this connection's small allowance. */
interface Charge {
  budget: number;
  allowance: number;
}

/** A protocol fault answered on its stream, or a frame that is dropped. */
type Classified =
  | { kind: "call"; streamId: number; request: Request; route: Route }
  | { kind: "fault"; streamId: number; error: AgentError }
  | { kind: "ignore"; reason: string };

export class ServerConnection {
  private readonly decoder = new FrameDecoder({ admit: (header) => this.admit(header) });
  /** Calls in flight, by stream id; aborting one cancels its handler. */
  private readonly streams = new Map<number, Call>();
  private readonly log: Logger;
  /** The logger handlers get (without this connection's fields). */
  private readonly handlerLog: Logger;
  private readonly router: Router;
  private readonly limits: Limits;
  private readonly budget: ReceiveBudget;
  private readonly shuttingDown: () => boolean;
  private closed = false;
  /**
   * What admitted frames cost, in order, from their headers until each is decoded (a read may
   * hold many frames, all admitted before the first is handled); then the charge passes to the
   * frame's call, or is given back.
   */
  private readonly admitted: Charge[] = [];
  /** Bytes of this connection's small-frame allowance in use (0 or one frame's worth). */
  private allowanceUsed = 0;
  /** Request bytes this connection's calls in flight hold. */
  private inFlightBytes = 0;
  /** Reading stopped by us (replies backing up, or too much in flight), not by the peer. */
  private readPaused = false;
  private stallTimer: NodeJS.Timeout | undefined;
  private faults = 0;
  /** Bytes this connection has read and written: what its buffers amounted to. */
  private traffic = 0;

  constructor(
    private readonly socket: Duplex,
    peer: string,
    options: ConnectionOptions,
  ) {
    this.log = options.log.child({ subsystem: "ttrpc", peer });
    this.handlerLog = options.log;
    this.router = options.router;
    this.limits = options.limits;
    this.budget = options.budget;
    this.shuttingDown = options.shuttingDown;
    socket.on("data", (chunk: Buffer) => {
      noteReceived(chunk.length);
      this.traffic += chunk.length;
      for (const frame of this.decoder.push(chunk)) this.onFrame(frame);
      this.watchStall();
    });
    socket.resume();
    // One listener for the whole connection: each paused reply must not add its own.
    socket.on("drain", () => {
      const wasPaused = this.readPaused;
      this.updateFlow();
      // A backlog of replies has just been written out: their buffers are garbage now.
      if (wasPaused && !this.readPaused) noteReleased(WRITE_BACKLOG_LIMIT);
    });
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
    clearTimeout(this.stallTimer);
    // A frame cut off by the close holds nothing any more; calls in flight give their bytes
    // back as they end (their handlers still hold the requests until then).
    for (const charge of this.admitted.splice(0)) this.release(charge);
    for (const call of this.streams.values()) call.abort(new DOMException("connection closed", "AbortError"));
    this.streams.clear();
    // Whatever its requests and replies were, they are garbage now.
    noteReleased(this.traffic);
    this.log.debug("connection closed");
  }

  /**
   * Decides, from a header alone, whether the frame's body may be kept: it is charged to the
   * shared budget, or (a small frame, when the budget is spent) to this connection's allowance.
   */
  private admit(header: FrameHeader): boolean {
    const bytes = header.length;
    if (this.budget.tryReserve(bytes)) {
      this.admitted.push({ budget: bytes, allowance: 0 });
      return true;
    }
    if (bytes <= SMALL_FRAME && this.allowanceUsed === 0) {
      this.allowanceUsed = Math.max(bytes, 1);
      this.admitted.push({ budget: 0, allowance: this.allowanceUsed });
      return true;
    }
    return false;
  }

  private release(charge: Charge): void {
    this.budget.release(charge.budget);
    if (charge.allowance) this.allowanceUsed = 0;
    noteReleased(charge.budget + charge.allowance);
  }

  /**
   * Closes the connection when it stops in the middle of a frame: a client that sends most of
   * a frame and then nothing would otherwise keep its bytes (and a connection) forever.
   */
  private watchStall(): void {
    const timeoutMs = timerDelay(this.limits.partialFrameTimeoutMs);
    if (!this.decoder.midFrame || this.readPaused || this.closed || timeoutMs === undefined) {
      clearTimeout(this.stallTimer);
      this.stallTimer = undefined;
      return;
    }
    if (this.stallTimer) {
      this.stallTimer.refresh();
      return;
    }
    this.stallTimer = setTimeout(() => {
      this.log.warn("closing a connection stalled in the middle of a frame", {
        bytes: this.decoder.buffered,
        ms: this.limits.partialFrameTimeoutMs,
      });
      this.socket.destroy();
    }, timeoutMs);
    this.stallTimer.unref();
  }

  /** Stops reading while replies back up or calls in flight hold too much; resumes when neither does. */
  private updateFlow(): void {
    if (this.closed) return;
    const hold = this.inFlightBytes > IN_FLIGHT_LIMIT || this.socket.writableLength > WRITE_BACKLOG_LIMIT;
    if (hold === this.readPaused) return;
    this.readPaused = hold;
    if (hold) this.socket.pause();
    else this.socket.resume();
    this.watchStall();
  }

  private onFrame(frame: Frame): void {
    const charge = frame.kind === "message" ? this.admitted.shift() : undefined;
    const c = this.classify(frame);
    if (c.kind === "call" && charge) {
      void this.run(c.streamId, c.request, c.route, charge, frame.header.length);
      return;
    }
    if (charge) this.release(charge);
    switch (c.kind) {
      case "ignore":
        this.log.debug("frame ignored", { reason: c.reason });
        return;
      case "fault":
        this.logFault(c.streamId, c.error);
        this.respond(c.streamId, c.error);
        return;
      case "call":
        // Every frame that reaches a call was admitted, so it has a charge; nothing else to do.
        return;
    }
  }

  /**
   * Warns of the first faults on a connection; the rest go to the debug level, so that a client
   * sending thousands of bad frames cannot flood the log (every one is still answered).
   */
  private logFault(streamId: number, error: AgentError): void {
    this.faults++;
    const fields = { stream: streamId, code: error.code, error: error.message };
    if (this.faults <= FAULTS_WARNED) this.log.warn("protocol fault", fields);
    else this.log.debug("protocol fault", fields);
    if (this.faults === FAULTS_WARNED) {
      this.log.warn(
        `${FAULTS_WARNED} protocol faults on this connection; further ones are logged at debug level`,
      );
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
    if (frame.kind === "refused") {
      return fault(
        streamId,
        Code.ResourceExhausted,
        `the agent holds ${this.budget.held} bytes of requests (limit ${this.budget.limit}) and cannot take ${length} more now; retry when calls in flight have finished`,
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
    if (this.streams.size >= this.limits.maxStreams) {
      return fault(
        streamId,
        Code.ResourceExhausted,
        `more than ${this.limits.maxStreams} calls in flight on one connection`,
      );
    }
    const found = this.router.lookup(request.service, request.method);
    if ("missing" in found) {
      return found.missing === "service"
        ? fault(streamId, Code.InvalidArgument, `${request.service} service does not exist`)
        : fault(streamId, Code.Unimplemented, `/${request.service}/${request.method} method does not exist`);
    }
    return { kind: "call", streamId, request, route: found.route };
  }

  private async run(
    streamId: number,
    request: Request,
    route: Route,
    charge: Charge,
    bytes: number,
  ): Promise<void> {
    const call = new Call();
    this.streams.set(streamId, call);
    this.inFlightBytes += bytes;
    this.updateFlow();
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
      log: this.handlerLog,
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
      this.inFlightBytes -= bytes;
      this.release(charge);
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
    const bytes = byteLength(frame);
    this.traffic += bytes;
    noteReleased(bytes);
    if (frame.length === 1) this.socket.write(frame[0]!);
    else {
      this.socket.cork();
      for (const part of frame) this.socket.write(part);
      this.socket.uncork();
    }
    // Backpressure: a peer that stops reading stops us reading its requests, instead of
    // letting replies pile up in memory. (Not at the socket's 16 KiB mark: a single 32 KiB
    // ReadStdout reply passes that, and pausing there costs a round trip per reply.)
    this.updateFlow();
  }
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
