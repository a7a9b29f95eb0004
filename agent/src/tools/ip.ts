// iproute2 (`ip`): queries return typed records parsed from `ip -json`; changes return the
// tool result for the caller to check with ensureOk(). Names go after `dev`, so a link name can
// never be read as an option or keyword.

import { RuntimeFailure } from "../core/domain-error.js";
import {
  type IpLink,
  type IpLinkAddrs,
  IpOutputError,
  type IpRoute,
  parseLinkAddrs,
  parseLinks,
  parseRoutes,
} from "./ip-json.js";
import { type RunResult, stdoutText } from "./run.js";
import { ensureOk, runTool } from "./tool.js";

export interface LinkChange {
  name?: string;
  mtu?: number;
  arp?: boolean;
  up?: boolean;
}

/** A route to add: what `ip route show` reports of one, plus whether the gateway is on-link. */
export type RouteSpec = Pick<
  IpRoute,
  "family" | "dest" | "gateway" | "device" | "prefSource" | "fromPrefix" | "scope" | "mtu"
> & { onlink: boolean };

export interface NeighbourSpec {
  family: 4 | 6;
  address: string;
  device: string;
  lladdr: string;
  /** NUD_* bits. */
  state: number;
  router: boolean;
  proxy: boolean;
  externLearn: boolean;
  use: boolean;
}

export class Iproute2 {
  constructor(private readonly binary = "ip") {}

  run(args: readonly string[], signal?: AbortSignal): Promise<RunResult> {
    return runTool(this.binary, args, { signal });
  }

  async links(signal?: AbortSignal): Promise<IpLink[]> {
    return this.query(["-json", "-details", "link", "show"], signal, parseLinks);
  }

  async linkAddrs(signal?: AbortSignal): Promise<IpLinkAddrs[]> {
    return this.query(["-json", "-details", "addr", "show"], signal, parseLinkAddrs);
  }

  /** Routes of the main table. */
  async routes(family: 4 | 6, signal?: AbortSignal): Promise<IpRoute[]> {
    return this.query([`-${family}`, "-json", "-N", "route", "show", "table", "main"], signal, (text) =>
      parseRoutes(text, family),
    );
  }

  setLink(device: string, change: LinkChange, signal?: AbortSignal): Promise<RunResult> {
    const args = ["link", "set", "dev", device];
    if (change.name !== undefined) args.push("name", change.name);
    if (change.mtu !== undefined) args.push("mtu", String(change.mtu));
    if (change.arp !== undefined) args.push("arp", change.arp ? "on" : "off");
    if (change.up !== undefined) args.push(change.up ? "up" : "down");
    return this.run(args, signal);
  }

  /** Adds the address, or updates it if the link already has it (so retries succeed). */
  replaceAddress(device: string, family: 4 | 6, cidr: string, signal?: AbortSignal): Promise<RunResult> {
    return this.run([`-${family}`, "addr", "replace", cidr, "dev", device], signal);
  }

  /** Adds the route to the main table with protocol boot, replacing an equal one (no EEXIST). */
  replaceRoute(route: RouteSpec, signal?: AbortSignal): Promise<RunResult> {
    const args = [`-${route.family}`, "route", "replace", route.dest || "default"];
    if (route.gateway) args.push("via", route.gateway);
    args.push("dev", route.device);
    if (route.fromPrefix) args.push("from", route.fromPrefix);
    if (route.prefSource) args.push("src", route.prefSource);
    args.push("proto", "boot", "scope", String(route.scope), "table", "main");
    if (route.mtu > 0) args.push("mtu", String(route.mtu));
    if (route.onlink) args.push("onlink");
    return this.run(args, signal);
  }

  /** Adds or updates a neighbour entry (NLM_F_CREATE | NLM_F_REPLACE, as upstream). */
  replaceNeighbour(n: NeighbourSpec, signal?: AbortSignal): Promise<RunResult> {
    const args = [`-${n.family}`, "neigh", "replace"];
    if (n.proxy) {
      args.push("proxy", n.address, "dev", n.device);
    } else {
      args.push(n.address, "dev", n.device);
      if (n.lladdr) args.push("lladdr", n.lladdr);
      args.push("nud", `0x${n.state.toString(16)}`);
    }
    if (n.router) args.push("router");
    if (n.externLearn) args.push("extern_learn");
    if (n.use) args.push("use");
    return this.run(args, signal);
  }

  private async query<T>(
    args: string[],
    signal: AbortSignal | undefined,
    parse: (text: string) => T,
  ): Promise<T> {
    const result = ensureOk(await this.run(args, signal), `${this.binary} ${args.join(" ")}`);
    try {
      return parse(stdoutText(result));
    } catch (err) {
      if (!(err instanceof IpOutputError)) throw err;
      throw new RuntimeFailure(`unexpected output from ${result.command}: ${err.message}`, {
        cause: err,
      });
    }
  }
}
