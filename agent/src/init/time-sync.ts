// Time sync in an agent-as-init guest: the guest's clock follows the host's through the PTP KVM
// clock (/dev/ptp0), read by chronyd with the configuration kata-build writes (refclock PHC
// /dev/ptp0). Started after the agent serves, so the runtime's first calls never wait for it.
import { existsSync } from "node:fs";
import type { Logger } from "../log.js";
import { describeEnd } from "../tools/run.js";

export const PTP_CLOCK = "/dev/ptp0";
/** Debian's and Azure Linux's places for the daemon and its configuration. */
export const CHRONYD_BINARIES = ["/usr/sbin/chronyd", "/sbin/chronyd"];
export const CHRONY_CONFIGS = ["/etc/chrony/chrony.conf", "/etc/chrony.conf"];

export type TimeSyncPlan = { start: true; binary: string; config: string } | { start: false; reason: string };

/** Whether chronyd can keep this guest's time, and with what. */
export function planTimeSync(exists: (path: string) => boolean = existsSync): TimeSyncPlan {
  if (!exists(PTP_CLOCK)) {
    return { start: false, reason: `no host clock (${PTP_CLOCK}): the hypervisor offers no PTP KVM clock` };
  }
  const binary = CHRONYD_BINARIES.find(exists);
  const config = CHRONY_CONFIGS.find(exists);
  if (!binary || !config) return { start: false, reason: "chrony is not installed in this guest" };
  return { start: true, binary, config };
}

/** Starts chronyd when the guest has the clock and the daemon; logs why not otherwise. */
export function startTimeSync(log: Logger, plan: TimeSyncPlan = planTimeSync()): void {
  if (!plan.start) {
    log.info("time sync not started", { reason: plan.reason });
    return;
  }
  log.info("starting chronyd on the host's PTP clock", { binary: plan.binary, config: plan.config });
  // Loaded here, not with this module: the start-up snapshot holds the init path, and node 18
  // cannot put child_process (which the direct spawn path needs) into a snapshot.
  import("../tools/chronyd.js")
    .then(({ runChronyd }) => runChronyd(plan.binary, plan.config, process.stderr.fd))
    .then((result) =>
      log.warn("chronyd ended: the guest's clock is no longer synchronised", { how: describeEnd(result) }),
    )
    .catch((err: unknown) => log.warn("cannot run chronyd", { error: err }));
}
