// The one decision of whether the agent acts on the system: every way of starting it, and the
// facts as this very process reads them from /proc and the environment. (The agent itself, started
// each of these ways, is in test/integration/agent/init/in-guest.test.ts.)
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  decideInGuest,
  readStartFacts,
  type StartFacts,
  unitOf,
} from "../../../../agent/src/init/in-guest.js";

const host: StartFacts = {
  pid: 4242,
  ppid: 4000,
  systemdBooted: false,
  invocationId: undefined,
  notifySocket: undefined,
  unit: undefined,
};
const service: StartFacts = {
  pid: 312,
  ppid: 1,
  systemdBooted: true,
  invocationId: "5f0c0e1b7d2a4c7e9a3b2c1d0e9f8a7b",
  notifySocket: "/run/systemd/notify",
  unit: "kata-agent.service",
};

describe("decideInGuest", () => {
  it.each<[string, StartFacts, boolean | undefined, boolean, RegExp]>([
    ["a host process", host, undefined, false, /^a host process: not PID 1, parent is pid 4000/],
    ["PID 1 (agent as init)", { ...host, pid: 1, ppid: 0 }, undefined, true, /PID 1/],
    [
      "a systemd service",
      service,
      undefined,
      true,
      /^started by systemd as a service \(kata-agent\.service\)$/,
    ],
    [
      "a Type=notify service without INVOCATION_ID",
      { ...service, invocationId: undefined },
      undefined,
      true,
      /systemd/,
    ],
    [
      "a Type=simple service without NOTIFY_SOCKET",
      { ...service, notifySocket: undefined },
      undefined,
      true,
      /systemd/,
    ],
    // A test run inside a CI job that is itself a systemd service inherits INVOCATION_ID.
    [
      "below a service, not started by systemd",
      { ...service, ppid: 900 },
      undefined,
      false,
      /parent is pid 900/,
    ],
    [
      "a child of PID 1 on a system without systemd",
      { ...service, systemdBooted: false },
      undefined,
      false,
      /init is not systemd/,
    ],
    [
      "a child of systemd outside any unit",
      { ...service, invocationId: undefined, notifySocket: undefined },
      undefined,
      false,
      /did not start us/,
    ],
    ["the explicit setting on a host", host, true, true, /set explicitly .*= true/],
    ["the explicit setting off under systemd", service, false, false, /set explicitly .*= false/],
    ["the explicit setting off as PID 1", { ...host, pid: 1 }, false, false, /set explicitly/],
  ])("%s", (_name, facts, setting, inGuest, reason) => {
    const decided = decideInGuest(facts, setting);
    expect(decided.inGuest).toBe(inGuest);
    expect(decided.reason).toMatch(reason);
  });
});

describe("readStartFacts", () => {
  it("reads this process as the kernel and the environment describe it", () => {
    const facts = readStartFacts({ INVOCATION_ID: "abc", NOTIFY_SOCKET: "" });
    expect(facts.pid).toBe(process.pid);
    expect(facts.ppid).toBe(Number(readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ")[1]));
    expect(facts.systemdBooted).toBe(existsSync("/run/systemd/system"));
    expect(facts.invocationId).toBe("abc");
    expect(facts.notifySocket).toBeUndefined(); // empty is unset
    expect(facts.unit).toBe(unitOf(readFileSync("/proc/self/cgroup", "utf8")));
  });
});

describe("unitOf", () => {
  it("finds the unit in cgroup v2 and v1 (name=systemd) lines", () => {
    expect(unitOf("0::/system.slice/kata-agent.service\n")).toBe("kata-agent.service");
    expect(unitOf("12:memory:/\n1:name=systemd:/system.slice/kata-agent.service\n")).toBe(
      "kata-agent.service",
    );
    expect(unitOf("0::/user.slice/user-0.slice/session-3.scope\n")).toBe("session-3.scope");
    expect(unitOf("0::/\n")).toBeUndefined();
    expect(unitOf(undefined)).toBeUndefined();
  });
});
