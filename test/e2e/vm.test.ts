// `kata-build vm` end to end, as a user runs it: the real CLI started as a process, our guest
// booted and left running, and a client other than kata-build (containerd's Go ttrpc client,
// test/peers/go) driving a whole pod against the agent inside it exactly as the Kata Go runtime
// drives one, its container root filesystem on the 9p share the command offers. Then the guest
// powers off after DestroySandbox and the command exits 0; and Ctrl-C stops a running guest.
import { type ChildProcessByStdio, execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBusyboxRootfs } from "../../builder/src/boot/busybox.js";
import { ensureGuest } from "../../builder/src/boot/guest.js";
import { ensureKernel } from "../../builder/src/pipelines/kernel.js";
import { dataDir, defaultAgentDir, defaultCacheDir } from "../../builder/src/util/paths.js";
import { Progress } from "../../builder/src/util/progress.js";
import { ensureBuilderBundle, repo } from "../helpers/builder-agent.js";
import { buildGoPeers, runGoClient, runGoPod } from "../helpers/peers.js";

const progress = new Progress({ write: (line) => process.stderr.write(`${line}\n`), heartbeatSeconds: 60 });
let cli: string;
let scratch: string;

beforeAll(async () => {
  // The CLI would build these too; building them here keeps each test's time to its boot.
  const cacheDir = defaultCacheDir();
  await ensureKernel({
    hypervisor: "kvm",
    arch: "x86_64",
    source: "/usr/src/linux-source-6.1.tar.xz",
    cacheDir,
    progress,
  });
  const guest = await ensureGuest({
    distro: "debian",
    init: "agent",
    agentDir: defaultAgentDir(),
    dataDir: dataDir(),
    cacheDir,
    progress,
  });
  await guest.image({ fs: "ext4", verity: true, dax: false });
  await buildGoPeers();
  cli = ensureBuilderBundle();
  scratch = mkdtempSync(path.join(tmpdir(), "e2e-vm-"));
}, 40 * 60_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

type Event = Record<string, unknown> & { event: string };

/** `kata-build vm --json` running, its events as they come, its exit. */
interface VmProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  events: Event[];
  next(name: string, timeoutMs: number): Promise<Event>;
  exit: Promise<number | null>;
  stderr(): string;
  /** Its TMPDIR: the command's own directory is made (and must be removed) there. */
  tmp: string;
}

function startVm(args: string[]): VmProcess {
  const tmp = mkdtempSync(path.join(scratch, "tmp-"));
  const child = spawn("node", [cli, "vm", "--json", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, TMPDIR: tmp },
  });
  const events: Event[] = [];
  const waiters: (() => void)[] = [];
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    const lines = out.split("\n");
    out = lines.pop() ?? "";
    for (const line of lines) events.push(JSON.parse(line) as Event);
    for (const w of waiters) w();
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on("close", resolve));
  void exit.then(() => {
    for (const w of waiters) w();
  });
  let exited = false;
  void exit.then(() => {
    exited = true;
  });
  return {
    child,
    events,
    tmp,
    stderr: () => err,
    exit,
    next: (name, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no '${name}' event in ${timeoutMs} ms:\n${err}`)),
          timeoutMs,
        );
        const look = () => {
          const found = events.find((e) => e.event === name);
          if (found) {
            clearTimeout(timer);
            resolve(found);
          } else if (exited) {
            clearTimeout(timer);
            reject(new Error(`kata-build vm exited before '${name}':\n${JSON.stringify(events)}\n${err}`));
          }
        };
        waiters.push(look);
        look();
      }),
  };
}

/** Types `command` into the debug console through kata-agent-ctl; true once `answer` appears. */
async function consoleSays(address: string, command: string, answer: RegExp): Promise<boolean> {
  const ctl = spawn("node", [path.join(repo, "agent/bin/kata-agent-ctl.mjs"), "console", address], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  try {
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 60_000);
      ctl.stdout.on("data", (d: Buffer) => {
        output += d.toString();
        if (answer.test(output)) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      ctl.on("close", () => {
        clearTimeout(timer);
        resolve(answer.test(output));
      });
      ctl.stdin.write(`${command}\nexit\n`);
    });
  } finally {
    ctl.kill("SIGKILL");
  }
}

/** QEMU processes whose command line mentions `dir`. */
function qemusUsing(dir: string): string[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(dir);
      } catch {
        return false;
      }
    });
}

describe("kata-build vm", () => {
  it("keeps our guest running while the Go ttrpc client drives a whole pod, and exits 0 when it powers off", async () => {
    // The pod's container root filesystem, on the share the guest mounts over 9p.
    const share = path.join(scratch, "share");
    makeBusyboxRootfs(path.join(share, "pod", "rootfs"));
    const bundle = path.join(scratch, "bundle");
    mkdirSync(bundle);
    execFileSync("runc", ["spec", "--bundle", bundle]);
    const specFile = path.join(bundle, "config.json");
    const spec = JSON.parse(readFileSync(specFile, "utf8")) as Record<string, unknown>;
    writeFileSync(
      specFile,
      JSON.stringify({
        ...spec,
        process: { ...(spec.process as object), terminal: false },
        hostname: "pod-in-vm",
      }),
    );

    const vm = startVm(["--share", share]);
    const started = await vm.next("started", 120_000);
    const dir = started.dir as string;
    expect(started.agent).toBe(`unix://${dir}/agent.sock`);
    expect(started.vsockBridge).toBe(`unix://${dir}/vsock-bridge.sock`);
    expect(started).toMatchObject({
      shared: share,
      shareTag: "kataShared",
      consoleLog: `${dir}/console.log`,
    });
    expect(path.dirname(dir)).toBe(vm.tmp);
    await vm.next("agent-ready", 300_000);

    const { exitCode, report, stderr } = await runGoPod(started.agent as string, {
      rootfs: "/run/kata-containers/shared/containers/pod/rootfs",
      runtimeSpec: specFile,
      extraArgs: ["--share-9p", "kataShared"],
      deadline: "240s",
    });
    const why = `failures: ${JSON.stringify(report.failures)}\nclient:\n${stderr}\nconsole:\n${readFileSync(started.consoleLog as string, "utf8").slice(-4000)}`;
    expect(report.failures, why).toEqual([]);
    expect(report.ok, why).toBe(true);
    expect(exitCode, why).toBe(0);
    // Every step of the runtime's sequence, the workload's output complete and in order.
    expect(report.steps.map((s) => s.step)).toEqual(
      expect.arrayContaining([
        "CreateSandbox",
        "workload.StartContainer",
        "workload.WaitProcess",
        "DestroySandbox",
      ]),
    );
    for (const s of report.steps) if (!s.ok) expect(s.tolerated, `${s.step}: ${s.error?.message}`).toBe(true);
    expect(report.stdout).toMatchObject({ lines: 200, complete: true, inOrder: true, eof: true });
    expect(report.stderr).toMatchObject({ lines: 200, complete: true, inOrder: true, eof: true });
    expect(report.exitStatus).toBe(7);
    expect(report.monitor.failed, why).toBe(0);
    // The guest's own kernel answered GetGuestDetails.
    expect(report.guestDetails).toBeDefined();

    // DestroySandbox ends the agent, which powers the guest off: the command says so and exits 0.
    expect(await vm.exit, vm.stderr()).toBe(0);
    expect(vm.events.at(-1)).toMatchObject({ event: "exited", reason: "poweroff" });
    expect(existsSync(dir)).toBe(false);
    expect(qemusUsing(dir)).toEqual([]);
  }, 600_000);

  it("stops the running guest on Ctrl-C, removes its directory and exits 130", async () => {
    const vm = startVm([]);
    const started = await vm.next("started", 120_000);
    await vm.next("agent-ready", 300_000);
    // The agent answers a client other than kata-build before the interrupt.
    const check = await runGoClient(started.agent as string, ["check"]);
    expect(check.exitCode, check.stderr).toBe(0);
    // So does its debug console, through kata-agent-ctl console (a piped script).
    expect(started.debugConsole).toBe(`unix://${started.dir as string}/console.sock`);
    expect(await consoleSays(started.debugConsole as string, "echo kata-$((6 * 7))", /^kata-42\r?$/m)).toBe(
      true,
    );

    vm.child.kill("SIGINT");
    expect(await vm.exit).toBe(130);
    expect(vm.events.at(-1)).toMatchObject({ event: "exited", reason: "signal", signal: "SIGINT" });
    const dir = started.dir as string;
    expect(readdirSync(vm.tmp)).toEqual([]);
    expect(qemusUsing(dir)).toEqual([]);
  }, 600_000);
});
