// AddARPNeighbors: static neighbour entries (permanent unless the request gives a NUD state),
// created or replaced, on links named by the request.

import type { NeighbourSpec } from "../tools/ip.js";
import { ensureOk } from "../tools/tool.js";
import { linkNotFound, type NetContext } from "./context.js";

export async function addNeighbours(ctx: NetContext, neighbours: readonly NeighbourSpec[]): Promise<void> {
  const names = new Set((await ctx.ip.links(ctx.signal)).map((l) => l.name));
  for (const n of neighbours)
    if (!names.has(n.device)) throw linkNotFound("add ARP neighbors", `Name: ${n.device}`);
  for (const n of neighbours) {
    ensureOk(
      await ctx.ip.replaceNeighbour(n, ctx.signal),
      `add ARP neighbors: Failed to add ARP neighbor ${n.address} on ${n.device}`,
    );
  }
}
