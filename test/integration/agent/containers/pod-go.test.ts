// One pod driven exactly as the Kata Go runtime drives it (virtcontainers' kata_agent.go), by an independent
// client: containerd's Go ttrpc with gogo messages (test/peers/go, `kata-ttrpc-client pod`), over a
// single connection on which the reads, the waiter, the OOM watcher and the health monitor overlap.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningAgent, startAgent } from "../../../helpers/agent.js";
import { ensureAgentBuilt } from "../../../helpers/builder-agent.js";
import { busyboxRootfs, ociRuntimes } from "../../../helpers/oci.js";
import { buildGoPeers, type GoPodReport, goConvertSpec, runGoPod } from "../../../helpers/peers.js";

let dir: string;
let specFile: string;
let rootfs: string;

beforeAll(async () => {
  ensureAgentBuilt();
  await buildGoPeers();
  dir = mkdtempSync(path.join(tmpdir(), "pod-go-"));
  // runc's default config.json, adjusted for the busybox rootfs (as a runtime's bundle would be).
  execFileSync("runc", ["spec", "--bundle", dir]);
  specFile = path.join(dir, "config.json");
  const spec = JSON.parse(readFileSync(specFile, "utf8")) as {
    process: { terminal: boolean };
    root: { path: string; readonly: boolean };
    hostname: string;
  };
  rootfs = busyboxRootfs();
  spec.process.terminal = false;
  spec.root = { path: rootfs, readonly: false };
  spec.hostname = "pod-go";
  writeFileSync(specFile, JSON.stringify(spec, null, 2));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** What the runtime sends, in order (stop: newest container first, then the sandbox). */
const EXPECTED_STEPS = [
  "Health.Check",
  "CreateSandbox",
  "GetGuestDetails",
  "pause.CreateContainer",
  "pause.StartContainer",
  "OnlineCPUMem",
  "workload.CreateContainer",
  "workload.StartContainer",
  "workload.WaitProcess",
  ...["workload", "pause"].flatMap((c) =>
    ["SignalProcess", "WaitProcess", "RemoveContainer", "RemoveStaleVirtiofsShareMounts"].map(
      (m) => `${c}.stop.${m}`,
    ),
  ),
  "DestroySandbox",
];

/** Failure context: the client's failures and progress log, and the agent's last log lines. */
function context(report: GoPodReport, stderr: string, a: RunningAgent): string {
  const agentLog = a
    .logs()
    .slice(-40)
    .map((r) => JSON.stringify(r))
    .join("\n");
  return `failures: ${JSON.stringify(report.failures)}\nclient:\n${stderr}\nagent:\n${agentLog}`;
}

function expectHealthyMonitor(report: GoPodReport, why: string): void {
  expect(report.monitor.failed, why).toBe(0);
  for (const check of report.monitor.samples) {
    expect(check.ok, why).toBe(true);
    // Not a timing assertion: a Check stuck behind a blocking call would take seconds or fail.
    expect(check.us, why).toBeLessThan(2_000_000);
  }
  expect(report.oomWatcher.errors, why).toEqual([]);
}

/** Waits up to `ms` for the agent to exit on its own (it does after DestroySandbox, as upstream's). */
async function exitedWithin(a: RunningAgent, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const exited = await Promise.race([a.process.then(() => true as const), timeout]);
  clearTimeout(timer);
  return exited;
}

describe("the pod command's spec conversion", () => {
  it("does what the runtime does to a runc spec before CreateContainer", async () => {
    const { spec, sandboxPidns, ignored } = await goConvertSpec(specFile, { rootfs: "/guest/rootfs" });
    expect(ignored).toEqual(["linux.resources.devices"]);
    expect(sandboxPidns).toBe(false);
    const linux = spec.Linux as { Namespaces: { Type: string; Path: string }[]; MaskedPaths: string[] };
    // network dropped; pid removed (sandbox_pidns carries it); the rest kept with blank paths.
    expect(linux.Namespaces).toEqual([
      { Type: "ipc", Path: "" },
      { Type: "uts", Path: "" },
      { Type: "mount", Path: "" },
    ]);
    expect(linux.MaskedPaths).toContain("/proc/kcore");
    expect(spec.Root).toEqual({ Path: "/guest/rootfs", Readonly: false });
    const proc = spec.Process as {
      Capabilities: { Bounding: string[] };
      Rlimits: unknown[];
      NoNewPrivileges: boolean;
    };
    expect(proc.Capabilities.Bounding).toContain("CAP_KILL");
    expect(proc.Rlimits).toEqual([{ Type: "RLIMIT_NOFILE", Hard: "1024", Soft: "1024" }]);
    expect(proc.NoNewPrivileges).toBe(true);
  });
});

describe.each(ociRuntimes())("a pod driven like the Kata Go runtime, with $name", ({ value: runtime }) => {
  it("streams all output in order, returns status 7, and keeps Health.Check answering while calls block", async () => {
    const a = await startAgent({ env: { KATA_AGENT_OCI_RUNTIME: runtime } });
    try {
      // The workload sleeps 3 s first, so ReadStdout/ReadStderr stay pending across monitor checks.
      const { exitCode, report, stderr } = await runGoPod(a.address, {
        rootfs,
        runtimeSpec: specFile,
        hold: "3s",
      });
      const why = context(report, stderr, a);
      expect(report.failures, why).toEqual([]);
      expect(report.ok, why).toBe(true);
      expect(exitCode, why).toBe(0);
      expect(report.steps.map((s) => s.step)).toEqual(EXPECTED_STEPS);
      // Only calls whose errors the runtime ignores may fail (WaitProcess after the waiter's is one).
      for (const s of report.steps)
        if (!s.ok) expect(s.tolerated, `${s.step}: ${s.error?.message}`).toBe(true);

      for (const [stream, prefix] of [
        [report.stdout, "out"],
        [report.stderr, "err"],
      ] as const) {
        expect(stream, why).toMatchObject({
          lines: 200,
          expected: 200,
          eof: true,
          complete: true,
          inOrder: true,
        });
        expect(stream.bytes).toBe(
          Array.from({ length: 200 }, (_, i) => `${prefix}-${i + 1}\n`).join("").length,
        );
      }
      expect(report.exitStatus).toBe(7);
      expect(report.oomEvents).toEqual([]);

      expectHealthyMonitor(report, why);
      expect(report.monitor.checks).toBeGreaterThanOrEqual(2);
      // At least one Check went out and came back while the reads were pending on the connection.
      expect(report.monitor.whileIo.checks, why).toBeGreaterThanOrEqual(1);
      expect(report.monitor.whileIo.maxUs).toBeLessThan(2_000_000);
      // GetOOMEvent + ReadStdout + ReadStderr (+ the Check) at once.
      expect(report.inFlight.peak).toBeGreaterThanOrEqual(3);
      expect(report.inFlight.peakMethods).toMatchObject({ GetOOMEvent: 1, ReadStdout: 1, ReadStderr: 1 });

      // The pause container was killed by the stop sequence; the watcher ended with the sandbox.
      expect(report.steps.find((s) => s.step === "pause.stop.WaitProcess")?.status).toBe(137);
      expect(report.oomWatcher.stoppedBy).not.toBe("");
      expect(await exitedWithin(a, 10_000), "the agent exits after DestroySandbox").toBe(true);
    } finally {
      await a.stop();
    }
  });

  it("reports the workload's OOM kill through GetOOMEvent with its container id, and status 137", async () => {
    const a = await startAgent({ env: { KATA_AGENT_OCI_RUNTIME: runtime } });
    try {
      const { exitCode, report, stderr } = await runGoPod(a.address, {
        rootfs,
        runtimeSpec: specFile,
        oomMb: 16,
      });
      const why = context(report, stderr, a);
      expect(report.failures, why).toEqual([]);
      expect(exitCode, why).toBe(0);
      expect(report.mode).toBe("oom");
      expect(report.exitStatus, why).toBe(137);
      expect(
        report.oomEvents.map((e) => e.containerId),
        why,
      ).toContain(report.workloadId);
      expect(
        report.oomEvents.every((e) => e.containerId === report.workloadId),
        why,
      ).toBe(true);
      expect(report.stdout.eof && report.stderr.eof).toBe(true);
      expectHealthyMonitor(report, why);
      expect(await exitedWithin(a, 10_000), "the agent exits after DestroySandbox").toBe(true);
    } finally {
      await a.stop();
    }
  });
});
