// What each network operation needs: the tools, where sysfs and /proc/sys are, the hot-plug
// timeout, and the calling RPC's signal and logger.
import { Code } from "../core/code.js";
import { AgentError } from "../core/error.js";
import type { Logger } from "../log.js";
import type { Iproute2 } from "./tools/ip.js";

export interface NetContext {
  ip: Iproute2;
  /** "/sys" */
  sysfs: string;
  /** "/proc/sys" (per network namespace: it shows the reader's). */
  procSys: string;
  hotplugTimeoutMs: number;
  signal?: AbortSignal;
  log?: Logger;
}

/** The error the Kata runtime retries UpdateInterface on while a hot-plugged NIC is on its way. */
export function linkNotFound(what: string, filter: string): AgentError {
  return new AgentError(Code.Internal, `${what}: Link not found (${filter})`);
}
