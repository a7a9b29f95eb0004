// Sandbox and container lifecycle RPCs.
import type { AgentService } from "../../gen/agent_pb.js";
import type { ContainerManager } from "../containers/manager.js";
import type { ServiceImpl } from "../core/router.js";

export interface ContainerDeps {
  containers: ContainerManager;
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
  containers,
}: ContainerDeps): Pick<ServiceImpl<typeof AgentService>, Methods> {
  return {
    createSandbox: async (req, ctx) => {
      await containers.createSandbox(req, ctx.signal);
      return {};
    },
    destroySandbox: async () => {
      await containers.destroySandbox();
      return {};
    },
    createContainer: async (req, ctx) => {
      await containers.createContainer(req, ctx.signal);
      return {};
    },
    startContainer: async (req) => {
      await containers.startContainer(req.containerId);
      return {};
    },
    removeContainer: async (req) => {
      await containers.removeContainer(req.containerId, req.timeout);
      return {};
    },
    pauseContainer: async (req) => {
      await containers.pauseContainer(req.containerId);
      return {};
    },
    resumeContainer: async (req) => {
      await containers.resumeContainer(req.containerId);
      return {};
    },
    updateContainer: async (req) => {
      await containers.updateContainer(req.containerId, req.resources);
      return {};
    },
    statsContainer: async (req) => containers.statsContainer(req.containerId),
    getOOMEvent: async (_req, ctx) => ({ containerId: await containers.oom.next(ctx.signal) }),
    getDiagnosticData: async (req) => ({ data: containers.diagnosticData(req.logType, req.containerId) }),
  };
}
