// The RPCs kata-agent-ctl can call: every method of grpc.AgentService and grpc.Health, found by
// its RPC name (CreateContainer), kebab-case (create-container) or lower case.
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { AgentService } from "../../gen/agent_pb.js";
import { Health } from "../../gen/health_pb.js";

export interface Method {
  service: DescService;
  desc: DescMethod;
}

export const services: DescService[] = [Health, AgentService];

export const methods: Method[] = services.flatMap((service) =>
  service.methods.map((desc) => ({ service, desc })),
);

export const kebab = (name: string) =>
  name
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1-$2")
    .toLowerCase();

export function findMethod(name: string): Method | undefined {
  const wanted = name.toLowerCase().replace(/[-_]/g, "");
  return methods.find((m) => m.desc.name.toLowerCase() === wanted);
}
