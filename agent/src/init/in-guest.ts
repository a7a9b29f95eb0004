// Is this agent running in a Kata guest, so that it may act on the system itself: set the hostname,
// bind the pod's resolv.conf over /etc/resolv.conf, load kernel modules, rescan PCI and SCSI
// buses? Decided once at start, from how the agent was started:
//   1. an explicit setting (KATA_AGENT_IN_GUEST, TOML in_guest; the guest's systemd unit sets it);
//   2. PID 1: the agent is the guest's init;
//   3. a systemd service: our parent is PID 1, systemd is the init (/run/systemd/system exists,
//      as sd_booted() checks) and it started us as a unit (INVOCATION_ID or NOTIFY_SOCKET set).
//      A process merely below a service inherits INVOCATION_ID but has another parent, so a test
//      run inside a CI service is not taken for a guest.
// Anything else is a host process (tests, development), which must leave the host alone.
import { readFileSync, statSync } from "node:fs";

/** What the decision looks at; `readStartFacts` reads them from this process. */
export interface StartFacts {
  pid: number;
  ppid: number;
  /** /run/systemd/system is a directory: systemd is this system's init. */
  systemdBooted: boolean;
  /** systemd sets it for every unit it starts. */
  invocationId: string | undefined;
  /** systemd sets it for Type=notify units. */
  notifySocket: string | undefined;
  /** The unit holding us, from /proc/self/cgroup (e.g. "kata-agent.service"), for the log. */
  unit: string | undefined;
}

export interface InGuest {
  inGuest: boolean;
  /** How it was decided, in words, for the start-up log and Version. */
  reason: string;
}

export function decideInGuest(facts: StartFacts, setting: boolean | undefined): InGuest {
  if (setting !== undefined) {
    return {
      inGuest: setting,
      reason: `set explicitly (KATA_AGENT_IN_GUEST or in_guest = ${setting})`,
    };
  }
  if (facts.pid === 1) return { inGuest: true, reason: "running as PID 1 (the agent is the guest's init)" };
  const byUnit = facts.invocationId !== undefined || facts.notifySocket !== undefined;
  if (facts.ppid === 1 && facts.systemdBooted && byUnit) {
    return {
      inGuest: true,
      reason: `started by systemd as a service${facts.unit ? ` (${facts.unit})` : ""}`,
    };
  }
  const why = [
    `not PID 1`,
    facts.ppid === 1
      ? facts.systemdBooted
        ? "PID 1 is systemd but did not start us as a unit"
        : "the init is not systemd"
      : `parent is pid ${facts.ppid}, not a systemd service`,
    "KATA_AGENT_IN_GUEST unset",
  ];
  return { inGuest: false, reason: `a host process: ${why.join(", ")}` };
}

export function readStartFacts(env: NodeJS.ProcessEnv = process.env): StartFacts {
  return {
    pid: process.pid,
    ppid: process.ppid,
    systemdBooted: isDirectory("/run/systemd/system"),
    invocationId: env.INVOCATION_ID || undefined,
    notifySocket: env.NOTIFY_SOCKET || undefined,
    unit: unitOf(readText("/proc/self/cgroup")),
  };
}

/** The last path component naming a unit (".service", ".scope") in /proc/self/cgroup text. */
export function unitOf(cgroupText: string | undefined): string | undefined {
  for (const line of (cgroupText ?? "").split("\n")) {
    // "0::/system.slice/kata-agent.service" (v2) or "1:name=systemd:/system.slice/x.service" (v1)
    const path = line.split(":").slice(2).join(":");
    const unit = path
      .split("/")
      .reverse()
      .find((part) => /\.(service|scope)$/.test(part));
    if (unit) return unit;
  }
  return undefined;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
