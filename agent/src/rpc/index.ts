// The complete handler table: every method of grpc.AgentService and grpc.Health. The
// `satisfies` below fails to compile if any of the 44 methods is missing.
import { AgentService } from "../../gen/agent_pb.js";
import { Health } from "../../gen/health_pb.js";
import { Router, type ServiceImpl } from "../core/router.js";
import { type ContainerDeps, containerHandlers } from "./containers.js";
import { type GuestDeps, guestHandlers } from "./guest.js";
import { type HealthDeps, healthHandlers } from "./health.js";
import { type NetworkDeps, networkHandlers } from "./network.js";
import { type PolicyDeps, policyHandlers } from "./policy.js";
import { type ProcessDeps, processHandlers } from "./processes.js";
import { statusCodes } from "./status-codes.js";
import { type StorageDeps, storageHandlers } from "./storage.js";

export type AgentDeps = HealthDeps &
  ContainerDeps &
  ProcessDeps &
  NetworkDeps &
  StorageDeps &
  GuestDeps &
  PolicyDeps;

export function agentServiceHandlers(deps: AgentDeps) {
  return {
    ...containerHandlers(deps),
    ...processHandlers(deps),
    ...guestHandlers(deps),
    ...policyHandlers(deps),
    ...storageHandlers(deps),
    ...networkHandlers(deps),
  } satisfies ServiceImpl<typeof AgentService>;
}

export function buildRouter(deps: AgentDeps): Router {
  // Outermost, the status codes: whatever a handler or the policy throws leaves with the code
  // its RPC answers. Then the agent policy sees every AgentService call before its handler
  // (Health is never checked).
  return new Router()
    .use(statusCodes())
    .use(deps.policy.interceptor())
    .register(Health, healthHandlers(deps))
    .register(AgentService, agentServiceHandlers(deps));
}
