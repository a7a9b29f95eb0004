// The network manager behind the seven networking RPCs. It takes the generated messages,
// validates them (INVALID_ARGUMENT naming the field), and drives iproute2 and iptables. Changes
// run one at a time, so that two UpdateInterface calls never interleave a name swap.
import type { ARPNeighbor, Interface, Route } from "../../gen/types_pb.js";
import type { Logger } from "../log.js";
import { Iproute2 } from "../tools/ip.js";
import { DEFAULT_IPTABLES_DIRS, Iptables, iptablesTool } from "../tools/iptables.js";
import { ensureOk } from "../tools/tool.js";
import type { NetContext, NicFinder } from "./context.js";
import { listInterfaces, updateInterface, waitForDevice } from "./interfaces.js";
import { addNeighbours } from "./neighbours.js";
import { listRoutes, updateRoutes } from "./routes.js";
import { checkInterface, checkNeighbours, checkRoutes } from "./validate.js";

export interface NetworkConfig {
  /** Finds a hot-plugged NIC named by its PCI path (waiting up to agent.hotplug_timeout). */
  devices: NicFinder;
  /** The `ip` program (default: "ip" on PATH). */
  ipBinary?: string;
  /** Where iptables-save/-restore are looked for (default: /usr/sbin, then /sbin). */
  iptablesDirs?: readonly string[];
  /** procfs sysctl directory (default "/proc/sys"). */
  procSys?: string;
}

/** What every call may carry: the RPC's signal and a logger for its context. */
export interface CallOptions {
  signal?: AbortSignal;
  log?: Logger;
}

export class NetworkManager {
  private readonly ip: Iproute2;
  private readonly iptables: Iptables;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly config: NetworkConfig) {
    this.ip = new Iproute2(config.ipBinary ?? "ip");
    this.iptables = new Iptables(config.iptablesDirs ?? DEFAULT_IPTABLES_DIRS);
  }

  /** UpdateInterface: returns the interface as requested (as upstream does). */
  async updateInterface(iface: Interface, options: CallOptions = {}): Promise<Interface> {
    const spec = checkInterface(iface);
    const ctx = this.context(options);
    // Waiting for a hot-plugged NIC happens outside the queue: it must not hold up other calls.
    await waitForDevice(ctx, spec);
    await this.exclusive(() => updateInterface(ctx, spec));
    return iface;
  }

  /** UpdateRoutes: adds the routes, then returns every route of the main table. */
  async updateRoutes(routes: Route[], options: CallOptions = {}): Promise<Route[]> {
    const specs = checkRoutes(routes);
    const ctx = this.context(options);
    return this.exclusive(async () => {
      await updateRoutes(ctx, specs);
      return listRoutes(ctx);
    });
  }

  listInterfaces(options: CallOptions = {}): Promise<Interface[]> {
    return listInterfaces(this.context(options));
  }

  listRoutes(options: CallOptions = {}): Promise<Route[]> {
    return listRoutes(this.context(options));
  }

  async addArpNeighbors(neighbors: ARPNeighbor[], options: CallOptions = {}): Promise<void> {
    const specs = checkNeighbours(neighbors);
    const ctx = this.context(options);
    await this.exclusive(() => addNeighbours(ctx, specs));
  }

  /** The ruleset as iptables-save (or ip6tables-save) prints it. */
  async getIpTables(ipv6: boolean, options: CallOptions = {}): Promise<Uint8Array> {
    const result = await this.iptables.save(ipv6, options.signal);
    return ensureOk(result, `GetIPTables: ${iptablesTool("save", ipv6)} failed`).stdout;
  }

  /** Loads a ruleset with iptables-restore (or ip6tables-restore); returns what it printed. */
  async setIpTables(ipv6: boolean, rules: Uint8Array, options: CallOptions = {}): Promise<Uint8Array> {
    return this.exclusive(async () => {
      const result = await this.iptables.restore(ipv6, rules, options.signal);
      return ensureOk(result, `SetIPTables: ${iptablesTool("restore", ipv6)} failed`).stdout;
    });
  }

  private context(options: CallOptions): NetContext {
    return {
      ip: this.ip,
      devices: this.config.devices,
      procSys: this.config.procSys ?? "/proc/sys",
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.log ? { log: options.log } : {}),
    };
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
