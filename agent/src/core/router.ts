// The neutral table both wires (ttrpc and gRPC) dispatch into: service descriptors from the
// generated code plus partial implementations. A method without an implementation answers
// UNIMPLEMENTED, the one code the Kata runtime reads as "feature absent".
import type {
  DescMessage,
  DescMethod,
  DescService,
  Message,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import { create, fromBinary, ScalarType, toBinary } from "@bufbuild/protobuf";
import { Code } from "./code.js";
import type { HandlerContext } from "./context.js";
import { AgentError } from "./error.js";
import { lengthDelimited } from "./varint.js";

export type UnaryHandler<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  ctx: HandlerContext,
) => Promise<MessageInitShape<O>>;

/** Every method of a service, typed from its generated descriptor (connect-es's ServiceImpl). */
export type ServiceImpl<S extends DescService> = {
  [K in keyof S["method"]]: S["method"][K] extends {
    input: infer I extends DescMessage;
    output: infer O extends DescMessage;
  }
    ? UnaryHandler<I, O>
    : never;
};

export interface Route {
  /** "grpc.AgentService" */
  readonly service: string;
  /** "CreateContainer" */
  readonly method: string;
  /** "/grpc.AgentService/CreateContainer" */
  readonly path: string;
  readonly input: DescMessage;
  readonly output: DescMessage;
  readonly implemented: boolean;
  decode(payload: Uint8Array): Message;
  handle(request: Message, ctx: HandlerContext): Promise<Message>;
  /** The encoded reply as one or more chunks to be written back to back (no joining copy). */
  encode(response: Message): Uint8Array[];
}

export type Lookup = { route: Route } | { missing: "service" | "method" };

/**
 * A service registered before its generated code is loaded: routes exist for every method at
 * once (so lookups, gRPC's method table and UNIMPLEMENTED/unknown-method answers are as for an
 * eager service), while the descriptor and each method's handler load on its first call.
 */
export interface LazyService {
  /** "grpc.AgentService" */
  readonly typeName: string;
  /** Loads the service's descriptor (its generated code); called once, again after a failure. */
  descriptor(): Promise<DescService>;
  /** Proto method name ("CreateSandbox") -> the loader of its handler. */
  readonly handlers: ReadonlyMap<string, () => Promise<UnaryHandler<DescMessage, DescMessage>>>;
}

/**
 * Runs around every handler, e.g. the agent policy deciding whether a request may proceed.
 * Call `next()` to run the handler; throw an AgentError to refuse.
 */
export type Interceptor = (
  call: { route: Route; request: Message; ctx: HandlerContext },
  next: () => Promise<Message>,
) => Promise<Message>;

export class Router {
  private readonly services = new Map<string, Map<string, Route>>();
  private readonly interceptors: Interceptor[] = [];

  /** Adds an interceptor; the first added runs outermost. */
  use(interceptor: Interceptor): this {
    this.interceptors.push(interceptor);
    return this;
  }

  register<S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): this {
    const methods = new Map<string, Route>();
    for (const method of service.methods) {
      const handler = (impl as Record<string, UnaryHandler<DescMessage, DescMessage> | undefined>)[
        method.localName
      ];
      methods.set(method.name, makeRoute(service, method, handler, this.interceptors));
    }
    this.services.set(service.typeName, methods);
    return this;
  }

  /** Routes for every method of `service`; each loads what it needs on its first call. */
  registerLazy(service: LazyService): this {
    const methods = new Map<string, Route>();
    for (const [name, loadHandler] of service.handlers) {
      const loaded = async (): Promise<Route> => {
        const [desc, handler] = await Promise.all([service.descriptor(), loadHandler()]);
        const method = desc.methods.find((m) => m.name === name);
        if (!method) throw new AgentError(Code.Unimplemented, `${service.typeName} has no method ${name}`);
        const route = makeRoute(desc, method, handler, this.interceptors);
        // From now on lookups find the loaded route itself, with no indirection.
        methods.set(name, route);
        return route;
      };
      methods.set(name, makeLazyRoute(service.typeName, name, loaded));
    }
    this.services.set(service.typeName, methods);
    return this;
  }

  lookup(service: string, method: string): Lookup {
    const methods = this.services.get(service);
    if (!methods) return { missing: "service" };
    const route = methods.get(method);
    return route ? { route } : { missing: "method" };
  }

  routes(): Route[] {
    return [...this.services.values()].flatMap((m) => [...m.values()]);
  }
}

function makeRoute(
  service: DescService,
  method: DescMethod,
  handler: UnaryHandler<DescMessage, DescMessage> | undefined,
  interceptors: readonly Interceptor[],
): Route {
  const path = `/${service.typeName}/${method.name}`;
  const { input, output } = method;
  const only = output.fields.length === 1 ? output.fields[0] : undefined;
  const bytesOnly = only?.fieldKind === "scalar" && only.scalar === ScalarType.BYTES ? only : undefined;
  const route: Route = {
    service: service.typeName,
    method: method.name,
    path,
    input,
    output,
    implemented: handler !== undefined,
    decode(payload) {
      try {
        return fromBinary(input, payload);
      } catch (err) {
        throw new AgentError(
          Code.InvalidArgument,
          `cannot decode ${input.typeName}: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      }
    },
    handle(request, ctx) {
      const run = async (): Promise<Message> => {
        if (!handler) throw new AgentError(Code.Unimplemented, `${path} is not implemented by this agent`);
        const result = await handler(request as MessageShape<DescMessage>, ctx);
        // Handlers may return a ready message (e.g. one carrying $unknown extension fields).
        if (isMessage(result, output)) return result;
        // A reply that is one bytes field (ReadStdout's, tens of thousands of times a second)
        // is that field and its type name: what create() would make, without walking the schema.
        if (bytesOnly) {
          const data = (result as Record<string, Uint8Array | undefined>)[bytesOnly.localName];
          return { $typeName: output.typeName, [bytesOnly.localName]: data ?? new Uint8Array() } as Message;
        }
        return create(output, result);
      };
      // Interceptors are read at call time, so ones added after register() still apply.
      const chain = interceptors.reduceRight<() => Promise<Message>>(
        (next, interceptor) => () => interceptor({ route, request, ctx }, next),
        run,
      );
      return chain();
    },
    encode(response) {
      // A reply that is one bytes field (ReadStdout's data) is framed around the caller's
      // buffer instead of being copied into a new one.
      if (bytesOnly && !response.$unknown?.length) {
        const data = (response as unknown as Record<string, Uint8Array>)[bytesOnly.localName]!;
        return data.length ? [lengthDelimited(bytesOnly.number, data.length), data] : [];
      }
      // A frozen reply cannot change: several calls answered with the same one (GetMetrics
      // calls sharing a scrape) share its bytes.
      if (!Object.isFrozen(response)) return [toBinary(output, response)];
      let bytes = encodedOnce.get(response);
      if (!bytes) {
        bytes = [toBinary(output, response)];
        encodedOnce.set(response, bytes);
      }
      return bytes;
    },
  };
  return route;
}

/** Encodings of frozen replies, kept only as long as the reply itself. */
const encodedOnce = new WeakMap<Message, Uint8Array[]>();

/** A request read before its method's code is loaded: decoded by handle() once it is. */
interface Undecoded extends Message {
  readonly $typeName: typeof UNDECODED;
  readonly payload: Uint8Array;
}
const UNDECODED = "kata.agent.Undecoded";

function makeLazyRoute(typeName: string, name: string, load: () => Promise<Route>): Route {
  const path = `/${typeName}/${name}`;
  let loading: Promise<Route> | undefined;
  let ready: Route | undefined;
  const resolve = (): Promise<Route> => {
    loading ??= load().then(
      (route) => {
        ready = route;
        return route;
      },
      (err: unknown) => {
        // A failed load (a missing chunk, say) fails this call only; the next one tries again.
        loading = undefined;
        if (err instanceof AgentError) throw err;
        const message = err instanceof Error ? err.message : String(err);
        throw new AgentError(Code.Internal, `cannot load the code serving ${path}: ${message}`, {
          cause: err,
        });
      },
    );
    return loading;
  };
  const loaded = (what: string): Route => {
    if (!ready) throw new Error(`${path}: ${what} is not known before the method's first call`);
    return ready;
  };
  return {
    service: typeName,
    method: name,
    path,
    get input() {
      return loaded("the input type").input;
    },
    get output() {
      return loaded("the output type").output;
    },
    implemented: true,
    decode(payload) {
      if (ready) return ready.decode(payload);
      const undecoded: Undecoded = { $typeName: UNDECODED, payload };
      return undecoded;
    },
    async handle(request, ctx) {
      const route = ready ?? (await resolve());
      const decoded =
        request.$typeName === UNDECODED ? route.decode((request as Undecoded).payload) : request;
      return route.handle(decoded, ctx);
    },
    encode(response) {
      return loaded("the reply type").encode(response);
    },
  };
}

function isMessage(value: unknown, desc: DescMessage): value is Message {
  return typeof value === "object" && value !== null && (value as Message).$typeName === desc.typeName;
}
