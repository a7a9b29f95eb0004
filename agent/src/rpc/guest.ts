// Guest-wide RPCs: details, hotplug, clock, entropy, swap, metrics and the mem-agent. Each
// handler checks the request and calls GuestManager.
import { create } from "@bufbuild/protobuf";
import { type Metrics, MetricsSchema } from "../../gen/agent_pb.js";
import { InvalidInputError } from "../core/domain-error.js";
import type { AgentDeps } from "./index.js";
import type { AgentImpl, GroupMethods } from "./methods.js";

export async function handlers(deps: AgentDeps): Promise<Pick<AgentImpl, GroupMethods<"guest">>> {
  const guest = await deps.guest();
  return {
    getGuestDetails: async (req) => {
      const details = await guest.details({
        memBlockSize: req.memBlockSize,
        memHotplugProbe: req.memHotplugProbe,
      });
      return {
        memBlockSizeBytes: details.memBlockSizeBytes,
        supportMemHotplugProbe: details.supportMemHotplugProbe,
        agentDetails: details.agentDetails,
      };
    },

    // `wait` is ignored, as upstream: the call always returns when the work is done.
    onlineCPUMem: async (req, ctx) => {
      await guest.onlineCpuMem({ nbCpus: req.nbCpus, cpuOnly: req.cpuOnly }, ctx.signal);
      return {};
    },

    memHotplugByProbe: async (req) => {
      await guest.probeMemory(req.memHotplugProbeAddr);
      return {};
    },

    setGuestDateTime: async (req) => {
      guest.setDateTime(safeNumber(req.Sec, "Sec"), safeNumber(req.Usec, "Usec"));
      return {};
    },

    reseedRandomDev: async (req) => {
      if (req.data.length === 0) {
        throw new InvalidInputError("ReseedRandomDev: data is empty; send the seed bytes in field 2");
      }
      guest.reseedRandom(req.data);
      return {};
    },

    addSwap: async (req, ctx) => {
      if (req.PCIPath.length === 0) {
        throw new InvalidInputError("AddSwap: PCIPath is empty; give the swap disk's PCI slots");
      }
      await guest.addSwap(req.PCIPath, ctx.signal);
      return {};
    },

    addSwapPath: async (req) => {
      if (req.path === "") throw new InvalidInputError("AddSwapPath: path is empty");
      guest.addSwapPath(req.path);
      return {};
    },

    getMetrics: async () => metricsReply(await guest.scrapeMetrics()),

    memAgentMemcgSet: async (req) => {
      guest.setMemcg(req);
      return {};
    },

    memAgentCompactSet: async (req) => {
      guest.setCompact(req);
      return {};
    },
  };
}

function safeNumber(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new InvalidInputError(`${field} ${value} is out of range`);
  }
  return Number(value);
}

let lastReply: Metrics | undefined;

/**
 * Calls sharing one scrape share one frozen reply, which the router encodes once: a thousand
 * pipelined GetMetrics then queue one buffer of tens of KiB, not a thousand copies.
 */
function metricsReply(text: string): Metrics {
  if (lastReply?.metrics !== text) lastReply = Object.freeze(create(MetricsSchema, { metrics: text }));
  return lastReply;
}
