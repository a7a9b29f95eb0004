// Wires the layers together: listeners (transport) -> wires (ttrpc, and gRPC when configured)
// -> the Router of handlers.
import type { Duplex } from "node:stream";
import type { AgentConfig } from "./config/table.js";
import type { Router } from "./core/router.js";
import type { Logger } from "./log.js";
import { formatAddress } from "./transport/address.js";
import { type Listener, listen } from "./transport/listen.js";
import { TtrpcServer } from "./ttrpc/server.js";

export interface AgentServer {
  readonly ttrpc: TtrpcServer;
  /** Addresses being served, for logs and Version. */
  readonly addresses: string[];
  /** Stops accepting, lets calls finish for up to graceMs, closes connections. */
  close(graceMs: number): Promise<void>;
}

/** Start-up milestones after listening, for the start-up clock. */
export interface ServerMilestones {
  onFirstConnection?: () => void;
  /** The first call that was answered (successfully or not), by method path. */
  onFirstCall?: (method: string) => void;
}

export async function startAgentServer(
  config: AgentConfig,
  router: Router,
  log: Logger,
  milestones: ServerMilestones = {},
): Promise<AgentServer> {
  const onWarning = (message: string, fields?: Record<string, unknown>) =>
    log.warn(message, { subsystem: "transport", ...fields });
  const listenOptions = { onWarning, allowVsockLoopback: config.allowVsockLoopback };
  watchFirstCall(router, milestones.onFirstCall);
  const ttrpc = new TtrpcServer({ router, log, partialFrameTimeoutMs: config.partialFrameTimeoutMs });
  let connected = milestones.onFirstConnection;
  const serve = (socket: Duplex, peer: string) => {
    connected?.();
    connected = undefined;
    ttrpc.serve(socket, peer);
  };
  const listeners: Listener[] = [];
  for (const address of config.serverAddr) {
    listeners.push(await listen(address, serve, listenOptions));
  }

  let closeGrpc: ((graceMs: number) => Promise<void>) | undefined;
  if (config.grpcAddr) {
    // Loaded on demand so an agent without gRPC never pays for grpc-js.
    const { createGrpcServer } = await import("./grpc/server.js");
    const grpc = createGrpcServer(router, log.child({ subsystem: "grpc" }));
    listeners.push(await listen(config.grpcAddr, (socket) => grpc.serve(socket), listenOptions));
    closeGrpc = (graceMs) => grpc.close(graceMs);
  }

  return {
    ttrpc,
    addresses: [
      ...config.serverAddr.map(formatAddress),
      ...(config.grpcAddr ? [formatAddress(config.grpcAddr)] : []),
    ],
    async close(graceMs) {
      await Promise.all(listeners.map((l) => l.close()));
      await Promise.all([ttrpc.shutdown(graceMs), closeGrpc?.(graceMs)]);
    },
  };
}

/** Calls `onFirstCall` once, when the first call's handler has finished (then steps aside). */
function watchFirstCall(router: Router, onFirstCall: ((method: string) => void) | undefined): void {
  if (!onFirstCall) return;
  let pending: ((method: string) => void) | undefined = onFirstCall;
  const report = (method: string) => {
    const call = pending;
    pending = undefined;
    // After this turn, once the reply has been written.
    if (call) setImmediate(() => call(method));
  };
  router.use((call, next) => {
    if (!pending) return next();
    return next().finally(() => report(call.route.path));
  });
}
