// The router's lazily registered service: every method has a route at once; the descriptor and
// the handler load on the first call, after which lookups find the loaded route itself; a load
// that fails fails that call only.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  CheckRequestSchema,
  Health,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "../../../../agent/gen/health_pb.js";
import { Code } from "../../../../agent/src/core/code.js";
import type { HandlerContext } from "../../../../agent/src/core/context.js";
import { AgentError } from "../../../../agent/src/core/error.js";
import {
  type LazyService,
  type Route,
  Router,
  type UnaryHandler,
} from "../../../../agent/src/core/router.js";
import { Logger } from "../../../../agent/src/log.js";

const ctx = (): HandlerContext => ({
  method: "/grpc.Health/Check",
  signal: new AbortController().signal,
  metadata: new Map(),
  log: Logger.create("error", () => {}),
});

/** grpc.Health registered lazily, counting how often its parts load. */
function lazyHealth(options: { failFirst?: boolean } = {}) {
  const loads = { descriptor: 0, handler: 0 };
  let fail = options.failFirst === true;
  const check: UnaryHandler<typeof CheckRequestSchema, typeof HealthCheckResponseSchema> = async () => ({
    status: HealthCheckResponse_ServingStatus.SERVING,
  });
  const service: LazyService = {
    typeName: "grpc.Health",
    descriptor: async () => {
      loads.descriptor++;
      if (fail) {
        fail = false;
        throw new Error("chunk missing");
      }
      return Health;
    },
    handlers: new Map([
      [
        "Check",
        async () => {
          loads.handler++;
          return check as unknown as UnaryHandler<never, never>;
        },
      ],
    ]),
  };
  return { loads, router: new Router().registerLazy(service) };
}

const route = (router: Router, method = "Check"): Route => {
  const found = router.lookup("grpc.Health", method);
  if (!("route" in found)) throw new Error(`no route: ${found.missing}`);
  return found.route;
};
const payload = () => toBinary(CheckRequestSchema, create(CheckRequestSchema, { service: "x" }));

describe("Router.registerLazy", () => {
  it("has a route for every method before anything loads; unknown methods are still unknown", () => {
    const { loads, router } = lazyHealth();
    expect(route(router).path).toBe("/grpc.Health/Check");
    expect(router.lookup("grpc.Health", "Nope")).toEqual({ missing: "method" });
    expect(router.routes().map((r) => r.path)).toEqual(["/grpc.Health/Check"]);
    expect(loads).toEqual({ descriptor: 0, handler: 0 });
  });

  it("loads on the first call, answers it, and then looks up the loaded route", async () => {
    const { loads, router } = lazyHealth();
    const lazy = route(router);
    const reply = await lazy.handle(lazy.decode(payload()), ctx());
    const [bytes] = lazy.encode(reply);
    expect(fromBinary(HealthCheckResponseSchema, bytes!).status).toBe(
      HealthCheckResponse_ServingStatus.SERVING,
    );
    expect(loads).toEqual({ descriptor: 1, handler: 1 });
    const loaded = route(router);
    expect(loaded).not.toBe(lazy);
    expect(loaded.input.typeName).toBe("grpc.CheckRequest");
    await loaded.handle(loaded.decode(payload()), ctx());
    await lazy.handle(lazy.decode(payload()), ctx());
    expect(loads).toEqual({ descriptor: 1, handler: 1 });
  });

  it("answers a request it cannot decode with INVALID_ARGUMENT, as an eager route does", async () => {
    const { router } = lazyHealth();
    const lazy = route(router);
    const bad = new Uint8Array([0x0a, 0x05, 0x01]);
    const err = await lazy.handle(lazy.decode(bad), ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe(Code.InvalidArgument);
  });

  it("fails only the call whose load failed, and loads again on the next", async () => {
    const { loads, router } = lazyHealth({ failFirst: true });
    const lazy = route(router);
    const err = await lazy.handle(lazy.decode(payload()), ctx()).catch((e: unknown) => e);
    expect((err as AgentError).code).toBe(Code.Internal);
    expect((err as AgentError).message).toBe(
      "cannot load the code serving /grpc.Health/Check: chunk missing",
    );
    await expect(lazy.handle(lazy.decode(payload()), ctx())).resolves.toBeDefined();
    expect(loads.descriptor).toBe(2);
  });

  it("runs the interceptors around a lazily loaded handler", async () => {
    const { router } = lazyHealth();
    const seen: string[] = [];
    router.use(async ({ route: r }, next) => {
      seen.push(r.input.typeName);
      return next();
    });
    const lazy = route(router);
    await lazy.handle(lazy.decode(payload()), ctx());
    expect(seen).toEqual(["grpc.CheckRequest"]);
  });
});
