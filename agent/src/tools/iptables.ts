// iptables-save / iptables-restore and their ip6tables twins, found where upstream looks for
// them (/usr/sbin, then /sbin). Whichever backend the guest's alternatives select (nf_tables or
// legacy) is used: the agent only moves the textual ruleset in and out.
import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { RuntimeFailure } from "../core/domain-error.js";
import type { RunResult } from "./run.js";
import { runTool } from "./tool.js";

export const DEFAULT_IPTABLES_DIRS = ["/usr/sbin", "/sbin"] as const;

/** Seconds iptables-restore waits for the xtables lock (upstream's value). */
export const RESTORE_LOCK_WAIT_SECONDS = 5;

export type IptablesCommand = "save" | "restore";

export function iptablesTool(command: IptablesCommand, ipv6: boolean): string {
  return `${ipv6 ? "ip6tables" : "iptables"}-${command}`;
}

export class Iptables {
  constructor(private readonly dirs: readonly string[] = DEFAULT_IPTABLES_DIRS) {}

  /** Absolute path of the tool, or an INTERNAL error naming where it looked. */
  locate(command: IptablesCommand, ipv6: boolean): string {
    const tool = iptablesTool(command, ipv6);
    for (const dir of this.dirs) {
      const candidate = join(dir, tool);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
    throw new RuntimeFailure(
      `${tool} not found in ${this.dirs.join(" or ")}: install iptables in the guest image`,
    );
  }

  save(ipv6: boolean, signal?: AbortSignal): Promise<RunResult> {
    return runTool(this.locate("save", ipv6), [], { signal });
  }

  /** Replaces the tables named in `rules` (iptables-restore without --noflush), as upstream. */
  restore(ipv6: boolean, rules: Uint8Array, signal?: AbortSignal): Promise<RunResult> {
    return runTool(this.locate("restore", ipv6), ["--wait", String(RESTORE_LOCK_WAIT_SECONDS)], {
      signal,
      input: rules,
    });
  }
}
