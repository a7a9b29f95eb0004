// Processes and their standard streams: exec, signal, wait, and the stdio RPCs.
import type { AgentDeps } from "./index.js";
import type { AgentImpl, GroupMethods } from "./methods.js";

export async function handlers(deps: AgentDeps): Promise<Pick<AgentImpl, GroupMethods<"processes">>> {
  const processes = await deps.processes();
  return {
    execProcess: async (req, ctx) => {
      await processes.exec(req, ctx.signal);
      return {};
    },
    signalProcess: async (req) => {
      await processes.signal(req.containerId, req.execId, req.signal);
      return {};
    },
    waitProcess: async (req, ctx) => ({
      status: await processes.wait(req.containerId, req.execId, ctx.signal),
    }),
    writeStdin: async (req, ctx) => ({
      len: await processes.writeStdin(req.containerId, req.execId, req.data, ctx.signal),
    }),
    readStdout: async (req, ctx) => ({
      data: await processes.readOutput(req.containerId, req.execId, "stdout", req.len, () => ctx.signal),
    }),
    readStderr: async (req, ctx) => ({
      data: await processes.readOutput(req.containerId, req.execId, "stderr", req.len, () => ctx.signal),
    }),
    closeStdin: async (req) => {
      processes.closeStdin(req.containerId, req.execId);
      return {};
    },
    ttyWinResize: async (req) => {
      processes.resizeTty(req.containerId, req.execId, req.row, req.column);
      return {};
    },
  };
}
