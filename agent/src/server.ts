// Wires the layers together: listeners (transport) -> wires (ttrpc, and gRPC when configured)
// -> the Router of handlers.
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

export async function startAgentServer(
  config: AgentConfig,
  router: Router,
  log: Logger,
): Promise<AgentServer> {
  const onWarning = (message: string, fields?: Record<string, unknown>) =>
    log.warn(message, { subsystem: "transport", ...fields });
  const listenOptions = { onWarning, allowVsockLoopback: config.allowVsockLoopback };
  const ttrpc = new TtrpcServer({ router, log, partialFrameTimeoutMs: config.partialFrameTimeoutMs });
  const listeners: Listener[] = [];
  for (const address of config.serverAddr) {
    listeners.push(await listen(address, (socket, peer) => ttrpc.serve(socket, peer), listenOptions));
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
