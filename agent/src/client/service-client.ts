// Typed stubs over a ttrpc connection: one async method per RPC of a generated service
// descriptor, named as the generated code names it (createContainer, check, ...).
import type { DescMessage, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { CallOptions, TtrpcClient } from "./ttrpc-client.js";

export type ServiceClient<S extends DescService> = {
  [K in keyof S["method"]]: S["method"][K] extends {
    input: infer I extends DescMessage;
    output: infer O extends DescMessage;
  }
    ? (request: MessageInitShape<I>, options?: CallOptions) => Promise<MessageShape<O>>
    : never;
};

export function serviceClient<S extends DescService>(client: TtrpcClient, service: S): ServiceClient<S> {
  const stub: Record<string, unknown> = {};
  for (const method of service.methods) {
    stub[method.localName] = (request: MessageInitShape<DescMessage>, options?: CallOptions) =>
      client.unary(service, method, request, options);
  }
  return stub as ServiceClient<S>;
}
