// Sandbox and container lifecycle RPCs.
import type { AgentDeps } from "./index.js";
import type { AgentImpl, GroupMethods } from "./methods.js";

export async function handlers(deps: AgentDeps): Promise<Pick<AgentImpl, GroupMethods<"containers">>> {
  const [sandbox, containers] = await Promise.all([deps.sandbox(), deps.containers()]);
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
