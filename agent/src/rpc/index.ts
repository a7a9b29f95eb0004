// The complete handler table: every method of grpc.AgentService and grpc.Health. The
// `satisfies` below fails to compile if any of the 44 methods is missing.
import { AgentService } from "../../gen/agent_pb.js";
import { Health } from "../../gen/health_pb.js";
import { Router, type ServiceImpl } from "../core/router.js";
import { type HealthDeps, healthHandlers } from "./health.js";
import { type NetworkDeps, networkHandlers } from "./network.js";
import { type StorageDeps, storageHandlers } from "./storage.js";
import { isUnimplemented, unimplemented } from "./unimplemented.js";

export type AgentDeps = HealthDeps & NetworkDeps & StorageDeps;

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
    getMetrics: unimplemented("GetMetrics"),
    memAgentMemcgSet: unimplemented("MemAgentMemcgSet"),
    memAgentCompactSet: unimplemented("MemAgentCompactSet"),
    createSandbox: unimplemented("CreateSandbox"),
    destroySandbox: unimplemented("DestroySandbox"),
    onlineCPUMem: unimplemented("OnlineCPUMem"),
    reseedRandomDev: unimplemented("ReseedRandomDev"),
    getGuestDetails: unimplemented("GetGuestDetails"),
    memHotplugByProbe: unimplemented("MemHotplugByProbe"),
    setGuestDateTime: unimplemented("SetGuestDateTime"),
    getOOMEvent: unimplemented("GetOOMEvent"),
    addSwap: unimplemented("AddSwap"),
    addSwapPath: unimplemented("AddSwapPath"),
    setPolicy: unimplemented("SetPolicy"),
  };
}

export function agentServiceHandlers(deps: AgentDeps) {
  return {
    ...pendingHandlers(),
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
  return new Router().register(Health, health).register(AgentService, agent);
}
