// When the agent is PID 1 (agent as init, no systemd): mount the early filesystems, take the
// console, set the hostname and PATH, bring up loopback; and at the end, power the VM off,
// because PID 1 must never simply exit (the kernel would panic).
import { readFileSync } from "node:fs";
import type { Logger } from "../log.js";
import { native } from "../native/index.js";
import { mountEarlyFilesystems } from "./mounts.js";

export const isInit = () => process.pid === 1;

/** Runs before the configuration is read: the kernel command line needs /proc. */
export function setupAsInit(): { mounted: string[]; failed: string[] } {
  const n = native();
  process.env.PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  const { mounted, failed } = mountEarlyFilesystems(n);
  try {
    n.setsid();
    n.setControllingTty(0);
  } catch {
    // no console on stdin: logs still go to stderr
  }
  let hostname = "localhost";
  try {
    hostname = readFileSync("/etc/hostname", "utf8").trim() || hostname;
  } catch {
    // keep the default
  }
  n.sethostname(hostname);
  return { mounted, failed };
}

/** Brings up lo (the guest's only interface until the runtime adds more). */
export function startLoopback(log: Logger): void {
  // One ioctl, not `ip link set lo up`: spawning a program (and loading execa) at boot costs
  // seconds under emulation, while the runtime's first calls are waiting.
  try {
    native().linkUp("lo");
  } catch (err) {
    log.warn("cannot bring up lo", { error: (err as Error).message });
  }
}

/** The end of the guest: flush and power off (the VMM sees the VM stop). */
export function powerOff(reason: string, log?: Logger): never {
  if (log) log.info("powering off", { reason });
  else process.stderr.write(`kata-agent: powering off: ${reason}\n`);
  try {
    native().reboot("poweroff");
  } catch (err) {
    process.stderr.write(`kata-agent: poweroff failed: ${(err as Error).message}; halting\n`);
  }
  // reboot(2) does not return on success; keep PID 1 alive if it somehow did.
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
}

/** Ends the agent: an exit code as a process, a power-off as PID 1. */
export function exitAgent(code: number, reason: string, log?: Logger): never {
  if (isInit()) powerOff(`${reason} (exit code ${code})`, log);
  process.exit(code);
}
