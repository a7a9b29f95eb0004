// Processes and their standard streams: exec, signal, wait, and the stdio RPCs.
import type { AgentService } from "../../gen/agent_pb.js";
import type { ContainerManager } from "../containers/manager.js";
import type { ServiceImpl } from "../core/router.js";

export interface ProcessDeps {
  containers: ContainerManager;
}

type Methods =
  | "execProcess"
  | "signalProcess"
  | "waitProcess"
  | "writeStdin"
  | "readStdout"
  | "readStderr"
  | "closeStdin"
  | "ttyWinResize";

export function processHandlers({
  containers,
}: ProcessDeps): Pick<ServiceImpl<typeof AgentService>, Methods> {
  return {
    execProcess: async (req, ctx) => {
      await containers.execProcess(req, ctx.signal);
      return {};
    },
    signalProcess: async (req) => {
      await containers.signalProcess(req.containerId, req.execId, req.signal);
      return {};
    },
    waitProcess: async (req, ctx) => ({
      status: await containers.waitProcess(req.containerId, req.execId, ctx.signal),
    }),
    writeStdin: async (req, ctx) => ({
      len: await containers.writeStdin(req.containerId, req.execId, req.data, ctx.signal),
    }),
    readStdout: async (req, ctx) => ({
      data: await containers.readOutput(req.containerId, req.execId, "stdout", req.len, () => ctx.signal),
    }),
    readStderr: async (req, ctx) => ({
      data: await containers.readOutput(req.containerId, req.execId, "stderr", req.len, () => ctx.signal),
    }),
    closeStdin: async (req) => {
      containers.closeStdin(req.containerId, req.execId);
      return {};
    },
    ttyWinResize: async (req) => {
      containers.resizeTty(req.containerId, req.execId, req.row, req.column);
      return {};
    },
  };
}
