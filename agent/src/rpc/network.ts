// Networking RPCs: UpdateInterface, UpdateRoutes, ListInterfaces, ListRoutes, AddARPNeighbors,
// GetIPTables, SetIPTables. Each checks that the request carries its payload, calls the network
// manager with the call's signal and logger, and wraps the answer.
import { InvalidInputError } from "../core/domain-error.js";
import type { AgentDeps } from "./index.js";
import type { AgentImpl, GroupMethods } from "./methods.js";

const empty = (what: string) => new InvalidInputError(`empty ${what} request`);

export async function handlers(deps: AgentDeps): Promise<Pick<AgentImpl, GroupMethods<"network">>> {
  const network = await deps.network();
  return {
    updateInterface: async (req, ctx) => {
      if (!req.interface) throw empty("update interface");
      return network.updateInterface(req.interface, ctx);
    },
    updateRoutes: async (req, ctx) => {
      if (!req.routes) throw empty("update routes");
      return { Routes: await network.updateRoutes(req.routes.Routes, ctx) };
    },
    listInterfaces: async (_req, ctx) => ({ Interfaces: await network.listInterfaces(ctx) }),
    listRoutes: async (_req, ctx) => ({ Routes: await network.listRoutes(ctx) }),
    addARPNeighbors: async (req, ctx) => {
      if (!req.neighbors) throw empty("add ARP neighbors");
      await network.addArpNeighbors(req.neighbors.ARPNeighbors, ctx);
      return {};
    },
    getIPTables: async (req, ctx) => ({ data: await network.getIpTables(req.isIpv6, ctx) }),
    setIPTables: async (req, ctx) => ({ data: await network.setIpTables(req.isIpv6, req.data, ctx) }),
  };
}
