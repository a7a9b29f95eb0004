// Sandbox and container lifecycle RPCs.
import type { AgentService } from "../../gen/agent_pb.js";
import type { ContainerService } from "../containers/container-service.js";
import type { SandboxService } from "../containers/sandbox-service.js";
import type { ServiceImpl } from "../core/router.js";

export interface ContainerDeps {
  sandbox: SandboxService;
  containers: ContainerService;
}

type Methods =
  | "createSandbox"
  | "destroySandbox"
  | "createContainer"
  | "startContainer"
  | "removeContainer"
  | "pauseContainer"
  | "resumeContainer"
  | "updateContainer"
  | "statsContainer"
  | "getOOMEvent"
  | "getDiagnosticData";

export function containerHandlers({
  sandbox,
  containers,
}: ContainerDeps): Pick<ServiceImpl<typeof AgentService>, Methods> {
  return {
    createSandbox: async (req, ctx) => {
      await sandbox.create(req, ctx.signal);
      return {};
    },
    destroySandbox: async () => {
      await sandbox.destroy();
      return {};
    },
    createContainer: async (req, ctx) => {
      await containers.create(req, ctx.signal);
      return {};
    },
    startContainer: async (req) => {
      await containers.start(req.containerId);
      return {};
    },
    removeContainer: async (req) => {
      await containers.remove(req.containerId, req.timeout);
      return {};
    },
    pauseContainer: async (req) => {
      await containers.pause(req.containerId);
      return {};
    },
    resumeContainer: async (req) => {
      await containers.resume(req.containerId);
      return {};
    },
    updateContainer: async (req) => {
      await containers.update(req.containerId, req.resources);
      return {};
    },
    statsContainer: async (req) => containers.stats(req.containerId),
    getOOMEvent: async (_req, ctx) => ({ containerId: await sandbox.nextOomEvent(ctx.signal) }),
    getDiagnosticData: async (req) => ({ data: containers.diagnosticData(req.logType, req.containerId) }),
  };
}
