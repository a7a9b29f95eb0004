// UpdateRoutes and ListRoutes, on the main table. Routes are added with `replace` (netlink
// NLM_F_CREATE | NLM_F_REPLACE, as upstream), so a route that already exists is no error, and
// routes not in the request are left alone.
import { create } from "@bufbuild/protobuf";
import { IPFamily, type Route, RouteSchema } from "../../gen/types_pb.js";
import type { RouteSpec } from "../tools/ip.js";
import type { IpRoute } from "../tools/ip-json.js";
import { ensureOk } from "../tools/tool.js";
import { linkNotFound, type NetContext } from "./context.js";

/** RTNH_F_* bits of the route flag names iproute2 prints (<linux/rtnetlink.h>). */
const RTNH_BITS: Record<string, number> = {
  dead: 0x1,
  pervasive: 0x2,
  onlink: 0x4,
  offload: 0x8,
  linkdown: 0x10,
  unresolved: 0x20,
  trap: 0x40,
};

export function routeFlagBits(flags: readonly string[]): number {
  return flags.reduce((bits, name) => bits | (RTNH_BITS[name] ?? 0), 0);
}

/** Adds `routes` (already ordered: gateway-less first) after checking that every device exists. */
export async function updateRoutes(ctx: NetContext, routes: readonly RouteSpec[]): Promise<void> {
  const names = new Set((await ctx.ip.links(ctx.signal)).map((l) => l.name));
  for (const r of routes) if (!names.has(r.device)) throw linkNotFound("update routes", `Name: ${r.device}`);
  for (const r of routes) {
    const source = r.fromPrefix || r.prefSource;
    ensureOk(
      await ctx.ip.replaceRoute(r, ctx.signal),
      `update routes: Failed to add IP v${r.family} route (src: ${source}, dst: ${r.dest}, gtw: ${r.gateway})`,
    );
  }
}

export function toRoute(r: IpRoute): Route {
  return create(RouteSchema, {
    dest: r.dest,
    gateway: r.gateway,
    device: r.device,
    source: r.fromPrefix || r.prefSource,
    scope: r.scope,
    family: r.family === 6 ? IPFamily.v6 : IPFamily.v4,
    flags: routeFlagBits(r.flags),
    mtu: r.mtu,
  });
}

/** IPv4 then IPv6 routes of the main table. */
export async function listRoutes(ctx: NetContext): Promise<Route[]> {
  const v4 = await ctx.ip.routes(4, ctx.signal);
  const v6 = await ctx.ip.routes(6, ctx.signal);
  return [...v4, ...v6].map(toRoute);
}
