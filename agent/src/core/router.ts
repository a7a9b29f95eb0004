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
        return isMessage(result, output) ? result : create(output, result);
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

function isMessage(value: unknown, desc: DescMessage): value is Message {
  return typeof value === "object" && value !== null && (value as Message).$typeName === desc.typeName;
}
