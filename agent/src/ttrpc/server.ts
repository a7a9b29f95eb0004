// ttrpc server: serves connections on any Duplex (the transport layer's business) up to a cap,
// with one receive budget they all share, and shuts them down gracefully. Each connection
// (connection.ts) dispatches requests through the Router and answers each on its own stream id;
// many calls run at once on one, and a blocked ReadStdout never holds back a Health.Check.
import type { Duplex } from "node:stream";
import type { Router } from "../core/router.js";
import type { Logger } from "../log.js";
import { onReclaim } from "../util/reclaim.js";
import { type Limits, ServerConnection } from "./connection.js";
import { ReceiveBudget } from "./receive-budget.js";

export interface TtrpcServerOptions {
  router: Router;
  log: Logger;
  /** Calls one connection may have in flight before new ones are refused (RESOURCE_EXHAUSTED). */
  maxStreamsPerConnection?: number;
  /** Connections served at once; one more is closed as it arrives, with a log line. */
  maxConnections?: number;
  /**
   * Bytes of requests held for all connections together: frames being received and the
   * requests of calls in flight. A frame that does not fit is refused (RESOURCE_EXHAUSTED)
   * and its body skipped unread.
   */
  receiveBudget?: number;
  /** A connection that stops sending in the middle of a frame for this long is closed (0: never). */
  partialFrameTimeoutMs?: number;
}

/**
 * The defaults. The Kata runtime keeps one connection (or a few) and sends each frame whole, at
 * most 4 MiB: 32 MiB of requests in hand is eight such frames at once, and 64 connections is
 * far more than any runtime opens; a frame that has not moved for 10 s over a local socket or
 * vsock is not coming.
 */
export const SERVER_DEFAULTS = {
  maxStreamsPerConnection: 1024,
  maxConnections: 64,
  receiveBudget: 32 << 20,
  partialFrameTimeoutMs: 10_000,
} as const;

export class TtrpcServer {
  private readonly connections = new Set<ServerConnection>();
  private shuttingDown = false;
  private readonly limits: Limits;
  private readonly budget: ReceiveBudget;

  constructor(private readonly options: TtrpcServerOptions) {
    this.limits = {
      maxStreams: options.maxStreamsPerConnection ?? SERVER_DEFAULTS.maxStreamsPerConnection,
      maxConnections: options.maxConnections ?? SERVER_DEFAULTS.maxConnections,
      partialFrameTimeoutMs: options.partialFrameTimeoutMs ?? SERVER_DEFAULTS.partialFrameTimeoutMs,
    };
    this.budget = new ReceiveBudget(options.receiveBudget ?? SERVER_DEFAULTS.receiveBudget);
    onReclaim((r) => options.log.debug("memory reclaimed after a burst", { subsystem: "ttrpc", ...r }));
  }

  /** Serves one accepted connection until either side closes it. */
  serve(socket: Duplex, peer = "unknown"): void {
    if (this.connections.size >= this.limits.maxConnections) {
      this.options.log.warn("too many connections: closing a new one", {
        subsystem: "ttrpc",
        peer,
        limit: this.limits.maxConnections,
      });
      socket.destroy();
      return;
    }
    const conn = new ServerConnection(socket, peer, {
      router: this.options.router,
      log: this.options.log,
      limits: this.limits,
      budget: this.budget,
      shuttingDown: () => this.shuttingDown,
    });
    this.connections.add(conn);
    socket.once("close", () => this.connections.delete(conn));
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Request bytes held for every connection now (frames being received, calls in flight). */
  get receivedBytesHeld(): number {
    return this.budget.held;
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
