// HTTP/2 gRPC over the same Router as ttrpc, through @grpc/grpc-js, with server reflection.
// Loaded only when agent.grpc_addr is set: grpc-js costs memory the guest pays for.
// Connections come from our own listeners (vsock, serial, unix, tcp) and are injected into
// grpc-js, so gRPC reaches every transport ttrpc does.
import type { Duplex } from "node:stream";
import * as grpc from "@grpc/grpc-js";
import { file_agent } from "../../gen/agent_pb.js";
import { file_health } from "../../gen/health_pb.js";
import { Code } from "../core/code.js";
import type { HandlerContext } from "../core/context.js";
import { AgentError } from "../core/error.js";
import type { Route, Router } from "../core/router.js";
import type { Logger } from "../log.js";
import { treatHugeDeadlinesAsNone } from "./deadline.js";
import { addReflection } from "./reflection.js";

export interface GrpcServer {
  /** Hands one accepted connection to the HTTP/2 server. */
  serve(socket: Duplex): void;
  close(graceMs: number): Promise<void>;
}

export function createGrpcServer(router: Router, log: Logger): GrpcServer {
  treatHugeDeadlinesAsNone();
  const server = new grpc.Server({ "grpc.max_receive_message_length": 4 << 20 });
  const byService = new Map<string, Route[]>();
  for (const route of router.routes()) {
    byService.set(route.service, [...(byService.get(route.service) ?? []), route]);
  }
  for (const routes of byService.values()) {
    const definition: Record<string, grpc.MethodDefinition<Uint8Array, Uint8Array>> = {};
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const route of routes) {
      definition[route.method] = {
        path: route.path,
        requestStream: false,
        responseStream: false,
        requestSerialize: (value: Uint8Array) => Buffer.from(value),
        requestDeserialize: (bytes: Buffer) => bytes,
        responseSerialize: (value: Uint8Array) => Buffer.from(value),
        responseDeserialize: (bytes: Buffer) => bytes,
      };
      implementation[route.method] = unaryHandler(route, log);
    }
    server.addService(definition as grpc.ServiceDefinition, implementation);
  }
  addReflection(server, [file_agent, file_health]);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  return {
    serve: (socket) => injector.injectConnection(socket),
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

function unaryHandler(route: Route, log: Logger): grpc.handleUnaryCall<Buffer, Uint8Array> {
  return (call, callback) => {
    const controller = new AbortController();
    call.on("cancelled", () => controller.abort(new DOMException("cancelled by the client", "AbortError")));
    const deadlineValue = call.getDeadline();
    const deadline = deadlineValue instanceof Date ? deadlineValue.getTime() : deadlineValue;
    const metadata = new Map<string, string[]>();
    for (const [key, value] of Object.entries(call.metadata.getMap())) {
      metadata.set(key.toLowerCase(), [typeof value === "string" ? value : value.toString("base64")]);
    }
    const ctx: HandlerContext = {
      method: route.path,
      signal: controller.signal,
      ...(Number.isFinite(deadline) ? { deadline } : {}),
      metadata,
      log,
    };
    (async () => Buffer.concat(route.encode(await route.handle(route.decode(call.request), ctx))))().then(
      (reply) => callback(null, reply),
      (err: unknown) => {
        const error = AgentError.from(err);
        if (error.code === Code.Internal) log.debug("call failed", { method: route.path, error });
        callback({ code: error.code as number as grpc.status, details: error.message });
      },
    );
  };
}
