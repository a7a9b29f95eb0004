// kata-build boot, as a library: boot our kernel and guest under QEMU, reach the agent over
// virtio-serial, exercise its vsock listener through the in-guest bridge (vsock loopback), run
// the container scenario, and time each phase. The e2e test and the CLI both call this.
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { dial, Health, parseAddress, serviceClient, TtrpcClient } from "../../../agent/src/client/index.js";
import type { InitMode } from "../distro/types.js";
import { BuildError } from "../util/errors.js";
import type { Progress } from "../util/progress.js";
import { makeBusyboxRootfs } from "./busybox.js";
import { type AgentStartup, ConsoleWatch } from "./console.js";
import { checkDebugConsole } from "./debug-console.js";
import { BOOT_CHECK_INIT } from "./guest.js";
import { type BootRoot, type Profile, type ProfileName, profileNamed, type VmRoot } from "./profiles.js";
import { GUEST_SHARED, runScenario, type ScenarioResult } from "./scenario.js";
import { PORTS, startVm } from "./vm.js";

export type BootForm = "initrd" | "image";

export interface BootCheckOptions {
  /** What the guest boots from: the guest's initrd, or one of its images. */
  root: BootRoot;
  /** The guest's init mode: the agent-as-init wrapper is started with init= / rdinit=. */
  init: InitMode;
  /** The kernel command line profile (default: ours). */
  profile?: ProfileName;
  /** Extra kernel parameters, after everything else (the configuration's kernel_params). */
  append?: string;
  /** bzImage, or vmlinux (PVH entry). */
  kernel: string;
  workDir: string;
  memoryMiB?: number;
  cpus?: number;
  timeoutSeconds?: number;
  agentLogLevel?: string;
  progress: Progress;
  /** Where the containers' output goes (the terminal). */
  print: (text: string) => void;
  /**
   * Allow vsock loopback peers and check the agent's vsock listener through the in-guest bridge
   * (default); false boots the agent refusing them, as deployed, and skips that check.
   */
  vsockLoopback?: boolean;
  /** A blank disk of this size for the guest, for block volumes (see GuestExtras.scratchDisk). */
  scratchDiskMiB?: number;
  /** Runs before DestroySandbox, with a connected client (e.g. an interactive shell). */
  beforeDestroy?: (client: TtrpcClient, guest: GuestExtras) => Promise<void>;
}

/** What a beforeDestroy step can use besides the client. */
export interface GuestExtras {
  /** The host directory shared over 9p, and where the guest mounted it. */
  shared: string;
  guestShared: string;
  /** The scratch disk's PCI path, as the runtime would give it to the agent. */
  scratchDisk?: string;
}

export interface BootReport {
  form: BootForm;
  init: InitMode;
  profile: ProfileName;
  kernel: string;
  /** The kernel command line booted. */
  cmdline: string;
  /** QEMU started -> the kernel's "Linux version" banner on the console (0 when `quiet` hid it). */
  qemuToKernelMs: number;
  /** Kernel banner (or QEMU start) -> first Health.Check answered over virtio-serial. */
  kernelToAgentMs: number;
  /** Agent ready -> the first container exited (create, start, output, wait). */
  agentToContainerExitMs: number;
  /** The agent's own start-up as it logs it (process start -> serving), if its log showed it. */
  agentStartupMs?: number;
  /** The same in detail: phases, snapshot or bundle, first call, memory then. */
  agentStartup?: AgentStartup;
  /** DestroySandbox -> QEMU exited (the agent powered the guest off). */
  shutdownMs: number;
  /** Health.Check through the bridge to the agent's AF_VSOCK listener (vsock loopback allowed). */
  vsockCheckMs?: number;
  /** The debug console's answer to a command. */
  debugConsole: { line: string; ms: number };
  scenario: ScenarioResult;
  consoleLog: string;
}

/** How the boot harness sets up the agent besides the profile's line. */
export interface HarnessOptions {
  /** Our guest's init mode; undefined for a guest built elsewhere (it has no bridge). */
  init: InitMode | undefined;
  rootKind: BootRoot["kind"];
  agentLogLevel: string;
  /**
   * Let peers inside the VM reach the agent over vsock loopback, which the in-guest bridge to
   * its vsock listener needs (default); off, the agent refuses them, containers included, as it
   * does when the runtime boots it.
   */
  vsockLoopback?: boolean;
}

/**
 * What the boot harness adds to a profile's line: the agent's addresses (a virtio-serial port
 * stands in for the vsock the runtime would dial, which this host cannot offer), vsock loopback
 * allowed for the bridge, its log level, the debug console, and, for one of our agent-as-init
 * guests, the wrapper that starts the vsock bridge first.
 */
export function harnessParams(options: HarnessOptions): string {
  return [
    `agent.server_addr=serial://${PORTS.agent},vsock://-1:1024`,
    ...(options.vsockLoopback === false ? [] : ["agent.allow_vsock_loopback"]),
    `agent.log=${options.agentLogLevel}`,
    // The debug console as the runtime enables it (vsock port 1026), and on a virtio-serial port
    // the host can reach.
    `agent.debug_console agent.debug_console_vport=1026 agent.debug_console_addr=serial://${PORTS.console}`,
    ...(options.init === "agent"
      ? [options.rootKind === "initrd" ? `rdinit=${BOOT_CHECK_INIT}` : `init=${BOOT_CHECK_INIT}`]
      : []),
  ].join(" ");
}

/** The whole kernel command line: the profile's, the harness's additions, then `append`. */
export function bootCmdline(
  options: Omit<HarnessOptions, "rootKind"> & {
    profile: Profile;
    root: BootRoot;
    cpus: number;
    append?: string;
  },
): string {
  return [
    options.profile.cmdline(options.root, options.cpus),
    harnessParams({ ...options, rootKind: options.root.kind }),
    options.append ?? "",
  ]
    .filter(Boolean)
    .join(" ");
}

/** The machine's root for a profile: an initrd, or the image on virtio-blk or as an NVDIMM. */
export function vmRoot(profile: Profile, root: BootRoot): VmRoot {
  if (root.kind === "initrd") return { kind: "initrd", path: root.path };
  return { kind: profile.attach === "nvdimm" ? "nvdimm" : "disk", path: root.path };
}

export async function bootCheck(options: BootCheckOptions): Promise<BootReport> {
  const form: BootForm = options.root.kind;
  const profile = profileNamed(options.profile ?? "ours");
  const cpus = options.cpus ?? 2;
  const dir = path.join(options.workDir, `${form}-${options.init}-${profile.name}`);
  const shared = path.join(dir, "shared");
  mkdirSync(dir, { recursive: true });
  makeBusyboxRootfs(path.join(shared, "hello", "rootfs"));
  const cmdline = bootCmdline({
    profile,
    root: options.root,
    init: options.init,
    cpus,
    agentLogLevel: options.agentLogLevel ?? "info",
    ...(options.vsockLoopback === false ? { vsockLoopback: false } : {}),
    ...(options.append ? { append: options.append } : {}),
  });
  const vm = await startVm({
    kernel: options.kernel,
    root: vmRoot(profile, options.root),
    cmdline,
    consoleDevice: profile.console,
    dir,
    shared,
    memoryMiB: options.memoryMiB ?? 1024,
    cpus,
    ...(options.scratchDiskMiB ? { scratchDiskMiB: options.scratchDiskMiB } : {}),
  });
  const console = new ConsoleWatch(vm.consoleLog);
  const deadline = Date.now() + (options.timeoutSeconds ?? 300) * 1000;
  const fail = (what: string): never => {
    throw new BuildError(
      `boot check (${form}, ${options.init} init, ${profile.name}) failed: ${what}\n--- last lines of the guest console (${vm.consoleLog}) ---\n${console.tail()}\n---`,
      `QEMU: ${vm.command.join(" ")}\nQEMU's own errors: ${path.join(dir, "qemu.err")}; rerun with --agent-log debug for the agent's view`,
    );
  };
  const exited = vm.process.then((r) => r);
  try {
    const client = await options.progress.step(
      `Booting the ${options.init === "systemd" ? "systemd" : "agent-as-init"} ${form} under QEMU (TCG, ${profile.name} command line)`,
      async () => {
        // One connection, one Check that waits for the agent: the port's chardev keeps what we
        // send until the guest opens its end. (Reconnecting in a loop would leave partial
        // requests of dead connections queued in front of the live one.)
        let lastError: unknown;
        while (Date.now() < deadline) {
          if (console.panic) fail(`the guest kernel panicked: ${console.panic}`);
          const c = new TtrpcClient(
            await dial(parseAddress(`unix://${vm.agentSocket}`), { timeoutMs: 10_000, retryMs: 100 }),
          );
          const check = serviceClient(c, Health).check({}, { timeoutMs: deadline - Date.now() });
          const outcome = await Promise.race([
            check.then(
              () => "ready" as const,
              (err: unknown) => err,
            ),
            exited.then(() => "exited" as const),
            panicked(console).then(() => "panic" as const),
          ]);
          if (outcome === "ready") return c;
          c.close();
          if (outcome === "exited") fail(`QEMU exited early: ${readTail(path.join(dir, "qemu.err"))}`);
          if (outcome === "panic") fail(`the guest kernel panicked: ${console.panic}`);
          lastError = outcome;
          await sleep(500);
        }
        return fail(
          `the agent did not answer Health.Check in time (${(lastError as Error | undefined)?.message ?? "no answer"})`,
        );
      },
    );
    const agentAt = performance.now();
    // A `quiet` line hides the kernel's banner: the kernel's phase then counts from QEMU's start.
    const kernelAt = console.kernelAt ?? vm.startedAt;
    options.progress.info(
      `agent ready: ${((agentAt - vm.startedAt) / 1000).toFixed(2)} s after QEMU started (${console.kernelAt === undefined ? "no kernel banner on the console" : `kernel banner at ${((kernelAt - vm.startedAt) / 1000).toFixed(2)} s`})`,
    );

    const vsockCheckMs =
      options.vsockLoopback === false
        ? undefined
        : await options.progress.step(
            "Health.Check over the agent's vsock listener (in-guest bridge)",
            async () => {
              const t0 = performance.now();
              const bridged = new TtrpcClient(
                await dial(parseAddress(`unix://${vm.vsockBridgeSocket}`), { timeoutMs: 5000, retryMs: 100 }),
              );
              try {
                for (;;) {
                  try {
                    await serviceClient(bridged, Health).check({}, { timeoutMs: 5000 });
                    break;
                  } catch (err) {
                    if (Date.now() > deadline) throw err;
                    await sleep(200);
                  }
                }
              } finally {
                bridged.close();
              }
              return Math.round(performance.now() - t0);
            },
          );

    const debugConsole = await options.progress.step(
      "Debug console: a command in the guest's shell",
      async () => {
        const answer = await checkDebugConsole(
          `unix://${vm.consoleSocket}`,
          Math.max(deadline - Date.now(), 30_000),
        );
        options.progress.info(answer.line);
        return { line: answer.line, ms: answer.ms };
      },
    );

    let destroyAt = 0;
    const scenario = await options.progress.step("Running containers through the agent", () =>
      runScenario(client, {
        sandboxId: `boot-${form}-${options.init}`,
        print: options.print,
        say: (line) => options.progress.info(line.trim()),
        ...(options.beforeDestroy
          ? {
              beforeDestroy: () =>
                options.beforeDestroy!(client, {
                  shared,
                  guestShared: GUEST_SHARED,
                  ...(vm.scratchDisk ? { scratchDisk: vm.scratchDisk.pciPath } : {}),
                }),
            }
          : {}),
        onDestroy: () => {
          destroyAt = performance.now();
        },
      }),
    );
    const result = await Promise.race([exited, sleep(60_000).then(() => undefined)]);
    if (!result) fail("the guest did not power off after DestroySandbox");
    client.close();
    return {
      form,
      init: options.init,
      profile: profile.name,
      kernel: options.kernel,
      cmdline,
      qemuToKernelMs: Math.round(kernelAt - vm.startedAt),
      kernelToAgentMs: Math.round(agentAt - kernelAt),
      agentToContainerExitMs: Math.round(scenario.containerExitAt - agentAt),
      ...(console.agentStartupMs !== undefined ? { agentStartupMs: console.agentStartupMs } : {}),
      ...(console.agentStartup ? { agentStartup: console.agentStartup } : {}),
      shutdownMs: Math.round(performance.now() - (destroyAt || performance.now())),
      ...(vsockCheckMs !== undefined ? { vsockCheckMs } : {}),
      debugConsole,
      scenario,
      consoleLog: vm.consoleLog,
    };
  } catch (err) {
    if (err instanceof BuildError) throw err;
    return fail((err as Error).message);
  } finally {
    console.stop();
    vm.process.kill("SIGKILL");
    await exited;
  }
}

/** Resolves when the console shows a kernel panic. */
function panicked(console: ConsoleWatch): Promise<void> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (console.panic) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
    timer.unref();
  });
}

function readTail(file: string): string {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-5).join(" | ") || "(nothing on stderr)";
  } catch {
    return "(no stderr)";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
