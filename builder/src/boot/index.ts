// kata-build boot, as a library: boot our kernel and guest under QEMU, reach the agent over
// virtio-serial, exercise its vsock listener through the in-guest bridge (vsock loopback), run
// the container scenario, and time each phase. The e2e test and the CLI both call this.
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { dial, Health, parseAddress, serviceClient, TtrpcClient } from "../../../agent/src/client/index.js";
import { BuildError } from "../util/errors.js";
import type { Progress } from "../util/progress.js";
import { makeBusyboxRootfs } from "./busybox.js";
import { ConsoleWatch } from "./console.js";
import { BOOT_CHECK_INIT, type Guest } from "./guest.js";
import { runScenario, type ScenarioResult } from "./scenario.js";
import { PORTS, startVm } from "./vm.js";

export type BootForm = "initrd" | "image";

export interface BootCheckOptions {
  form: BootForm;
  /** bzImage, or vmlinux (PVH entry). */
  kernel: string;
  guest: Guest;
  workDir: string;
  memoryMiB?: number;
  cpus?: number;
  timeoutSeconds?: number;
  agentLogLevel?: string;
  progress: Progress;
  /** Where the containers' output goes (the terminal). */
  print: (text: string) => void;
  /** Runs before DestroySandbox, with a connected client (e.g. an interactive shell). */
  beforeDestroy?: (client: TtrpcClient) => Promise<void>;
}

export interface BootReport {
  form: BootForm;
  kernel: string;
  /** QEMU started -> the kernel's "Linux version" banner on the console. */
  qemuToKernelMs: number;
  /** Kernel banner -> first Health.Check answered over virtio-serial. */
  kernelToAgentMs: number;
  /** Agent ready -> the first container exited (create, start, output, wait). */
  agentToContainerExitMs: number;
  /** The agent's own start-up as it logs it (process start -> serving), if its log showed it. */
  agentStartupMs?: number;
  /** DestroySandbox -> QEMU exited (the agent powered the guest off). */
  shutdownMs: number;
  /** Health.Check through the bridge to the agent's AF_VSOCK listener (vsock loopback). */
  vsockCheckMs: number;
  scenario: ScenarioResult;
  consoleLog: string;
}

/** How a guest boots: its kernel command line, with the agent's parameters. */
export function kernelCmdline(form: BootForm, guest: Guest, agentLogLevel: string): string {
  return [
    "console=ttyS0 loglevel=6 printk.time=1 panic=-1 reboot=acpi",
    `agent.server_addr=serial://${PORTS.agent},vsock://-1:1024`,
    // The check reaches the vsock listener through an in-guest bridge over vsock loopback, a
    // peer the agent refuses unless told otherwise.
    "agent.allow_vsock_loopback",
    `agent.log=${agentLogLevel}`,
    form === "initrd" ? `rdinit=${BOOT_CHECK_INIT}` : `${guest.imageCmdline} init=${BOOT_CHECK_INIT}`,
  ].join(" ");
}

export async function bootCheck(options: BootCheckOptions): Promise<BootReport> {
  const dir = path.join(options.workDir, options.form);
  const shared = path.join(dir, "shared");
  mkdirSync(dir, { recursive: true });
  makeBusyboxRootfs(path.join(shared, "hello", "rootfs"));
  const cmdline = kernelCmdline(options.form, options.guest, options.agentLogLevel ?? "info");
  const vm = startVm({
    kernel: options.kernel,
    ...(options.form === "initrd" ? { initrd: options.guest.initrd } : { image: options.guest.image }),
    cmdline,
    dir,
    shared,
    memoryMiB: options.memoryMiB ?? 1024,
    cpus: options.cpus ?? 2,
  });
  const console = new ConsoleWatch(vm.consoleLog);
  const deadline = Date.now() + (options.timeoutSeconds ?? 300) * 1000;
  const fail = (what: string): never => {
    throw new BuildError(
      `boot check (${options.form}) failed: ${what}\n--- last lines of the guest console (${vm.consoleLog}) ---\n${console.tail()}\n---`,
      `QEMU: ${vm.command.join(" ")}\nQEMU's own errors: ${path.join(dir, "qemu.err")}; rerun with --agent-log debug for the agent's view`,
    );
  };
  const exited = vm.process.then((r) => r);
  try {
    const client = await options.progress.step(`Booting the ${options.form} under QEMU (TCG)`, async () => {
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
    });
    const agentAt = performance.now();
    const kernelAt = console.kernelAt ?? agentAt;
    options.progress.info(
      `agent ready: ${((agentAt - vm.startedAt) / 1000).toFixed(2)} s after QEMU started (kernel banner at ${((kernelAt - vm.startedAt) / 1000).toFixed(2)} s)`,
    );

    const vsockCheckMs = await options.progress.step(
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

    let destroyAt = 0;
    const scenario = await options.progress.step("Running containers through the agent", () =>
      runScenario(client, {
        sandboxId: `boot-${options.form}`,
        print: options.print,
        say: (line) => options.progress.info(line.trim()),
        ...(options.beforeDestroy ? { beforeDestroy: () => options.beforeDestroy!(client) } : {}),
        onDestroy: () => {
          destroyAt = performance.now();
        },
      }),
    );
    const result = await Promise.race([exited, sleep(60_000).then(() => undefined)]);
    if (!result) fail("the guest did not power off after DestroySandbox");
    client.close();
    return {
      form: options.form,
      kernel: options.kernel,
      qemuToKernelMs: Math.round(kernelAt - vm.startedAt),
      kernelToAgentMs: Math.round(agentAt - kernelAt),
      agentToContainerExitMs: Math.round(scenario.containerExitAt - agentAt),
      ...(console.agentStartupMs !== undefined ? { agentStartupMs: console.agentStartupMs } : {}),
      shutdownMs: Math.round(performance.now() - (destroyAt || performance.now())),
      vsockCheckMs,
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
