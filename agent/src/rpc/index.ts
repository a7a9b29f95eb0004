// The complete handler table: every method of grpc.AgentService and grpc.Health. The
// `satisfies` below fails to compile if any of the 44 methods is missing.
import { AgentService } from "../../gen/agent_pb.js";
import { Health } from "../../gen/health_pb.js";
import { Router, type ServiceImpl } from "../core/router.js";
import { type GuestDeps, guestHandlers } from "./guest.js";
import { type HealthDeps, healthHandlers } from "./health.js";
import { type NetworkDeps, networkHandlers } from "./network.js";
import { type PolicyDeps, policyHandlers } from "./policy.js";
import { type StorageDeps, storageHandlers } from "./storage.js";
import { isUnimplemented, unimplemented } from "./unimplemented.js";

export type AgentDeps = HealthDeps & NetworkDeps & StorageDeps & GuestDeps & PolicyDeps;

/** Methods a later part of the agent will implement; each answers UNIMPLEMENTED until then. */
function pendingHandlers() {
  return {
    createContainer: unimplemented("CreateContainer"),
    startContainer: unimplemented("StartContainer"),
    removeContainer: unimplemented("RemoveContainer"),
    execProcess: unimplemented("ExecProcess"),
    signalProcess: unimplemented("SignalProcess"),
    waitProcess: unimplemented("WaitProcess"),
    updateContainer: unimplemented("UpdateContainer"),
    statsContainer: unimplemented("StatsContainer"),
    pauseContainer: unimplemented("PauseContainer"),
    resumeContainer: unimplemented("ResumeContainer"),
    getDiagnosticData: unimplemented("GetDiagnosticData"),
    writeStdin: unimplemented("WriteStdin"),
    readStdout: unimplemented("ReadStdout"),
    readStderr: unimplemented("ReadStderr"),
    closeStdin: unimplemented("CloseStdin"),
    ttyWinResize: unimplemented("TtyWinResize"),
    createSandbox: unimplemented("CreateSandbox"),
    destroySandbox: unimplemented("DestroySandbox"),
    getOOMEvent: unimplemented("GetOOMEvent"),
  };
}

export function agentServiceHandlers(deps: AgentDeps) {
  return {
    ...pendingHandlers(),
    ...guestHandlers(deps),
    ...policyHandlers(deps),
    ...storageHandlers(deps),
    ...networkHandlers(deps),
  } satisfies ServiceImpl<typeof AgentService>;
}

/** Names of the AgentService RPCs that answer UNIMPLEMENTED in this build. */
export function unimplementedMethods(handlers: Record<string, unknown>): string[] {
  return AgentService.methods.filter((m) => isUnimplemented(handlers[m.localName])).map((m) => m.name);
}

export function buildRouter(deps: AgentDeps): Router {
  const agent = agentServiceHandlers(deps);
  const unimplemented = unimplementedMethods(agent);
  const health = healthHandlers({ ...deps, features: () => ({ ...deps.features(), unimplemented }) });
  // The agent policy sees every AgentService call before its handler (Health is never checked).
  return new Router().use(deps.policy.interceptor()).register(Health, health).register(AgentService, agent);
}
