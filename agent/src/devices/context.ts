// What a device handler gets: where sysfs and /dev are, how long to wait, and the RPC's signal.
import type { Logger } from "../log.js";
import type { DeviceRoots } from "./sysfs.js";

export interface DeviceContext {
  roots: DeviceRoots;
  /** agent.hotplug_timeout in milliseconds. */
  timeoutMs: number;
  signal: AbortSignal | undefined;
  log: Logger;
  /**
   * Whether a late device may be looked for by rescanning the bus. Only the guest's own buses:
   * an agent run on a host (tests, development) leaves the host's alone.
   */
  rescanBuses: boolean;
  /** First poll interval (tests shorten it). */
  pollMs?: number;
}

/** The fields of a grpc.Device a handler reads. */
export interface DeviceSpec {
  id: string;
  type: string;
  vmPath: string;
  containerPath: string;
  options: string[];
}
