// kata-build boot: the main job. Builds (or takes from the cache) the kvm guest kernel and an
// agent-as-init guest, boots it under QEMU, and runs containers through the agent like the
// Kata runtime, printing their output and how long each phase took.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TtrpcClient } from "../../../agent/src/client/index.js";
import { progressOf } from "../api/hooks.js";
import { cacheDirOf, cacheOption } from "../api/shared-options.js";
import { ensureGuest } from "../boot/guest.js";
import { type BootForm, type BootReport, bootCheck } from "../boot/index.js";
import { interactiveShell } from "../boot/shell.js";
import { smokeBoot } from "../boot/smoke.js";
import { distroNames } from "../distro/index.js";
import { ensureKernel } from "../pipelines/kernel.js";
import { BuildError } from "../util/errors.js";
import { type OptionTable, resolveOptions } from "../util/options.js";
import { dataDir, defaultAgentDir } from "../util/paths.js";
import { trackTemporary, untrackTemporary } from "../workspace/atomic.js";
import { defineCommand } from "./command.js";

const DEFAULT_SOURCE = "/usr/src/linux-source-6.1.tar.xz";

const bootOptions = {
  form: {
    kind: "string",
    arg: "FORM",
    choices: ["initrd", "image", "both"],
    default: "both",
    help: "guest form(s) to boot",
  },
  distro: {
    kind: "string",
    arg: "NAME",
    choices: distroNames,
    default: "debian",
    help: "guest distribution",
  },
  mirror: { kind: "string", arg: "URL|DIR", help: "package repository (needed for azurelinux here)" },
  node: {
    kind: "string",
    arg: "distro|host|FILE",
    default: "distro",
    help: "the guest's Node.js: the distribution's, this machine's (when it needs only libraries the guest has), or a binary",
  },
  kernel: { kind: "string", arg: "FILE", help: "boot this kernel instead of building one" },
  source: { kind: "string", arg: "TARBALL|DIR|VERSION", default: DEFAULT_SOURCE, help: "kernel source" },
  kernelImage: {
    kind: "string",
    arg: "KIND",
    choices: ["bzImage", "vmlinux"],
    default: "bzImage",
    help: "which built kernel to boot (vmlinux boots through its PVH entry)",
  },
  memory: { kind: "number", arg: "MiB", default: 1024, help: "guest memory" },
  cpus: { kind: "number", arg: "N", default: 2, help: "guest vCPUs" },
  agentLog: { kind: "string", arg: "LEVEL", default: "info", help: "agent.log level in the guest" },
  shell: {
    kind: "boolean",
    help: "open an interactive shell in the container (tty, window resize) before tearing down",
  },
  baseline: { kind: "boolean", default: true, help: "also time the kernel booting a busybox /init" },
  cache: cacheOption,
  keep: { kind: "boolean", help: "keep the work directory (console logs, sockets)" },
  timeout: { kind: "number", arg: "SECONDS", default: 600, help: "give up on a boot after this long" },
} as const satisfies OptionTable;

export const bootCommand = defineCommand({
  name: "boot",
  summary: "build a guest, boot it in QEMU and run containers through the agent",
  usage: "kata-build boot [--form initrd|image|both] [--distro debian|azurelinux] [options]",
  description: [
    "Builds (or reuses from the cache) the kvm guest kernel and an agent-as-init guest, then boots it",
    "under QEMU (q35, TCG) as an initrd and as a dm-verity disk image (virtio-blk root opened with",
    "dm-mod.create=, no initramfs). The host reaches the agent over a virtio-serial port; a bridge in",
    "the guest also exposes the agent's vsock listener (vsock loopback), which is checked too. Then,",
    "like the Kata runtime: CreateSandbox with a 9p shared filesystem, a container running",
    "`uname -a; cat /etc/os-release; id` (output shown), WaitProcess, an exec into a second container,",
    "RemoveContainer, DestroySandbox, and the guest powers off. Prints the time of each phase, and",
    "the same kernel's boot to a busybox /init for comparison.",
  ].join("\n"),
  options: bootOptions,
  async run(given, _positionals, context) {
    const values = resolveOptions(bootOptions, given);
    const progress = progressOf(context.hooks);
    const cacheDir = cacheDirOf(values.cache);
    const kernel =
      values.kernel ??
      (await (async () => {
        const built = await ensureKernel({
          hypervisor: "kvm",
          arch: "x86_64",
          source: values.source,
          cacheDir,
          progress,
        });
        return values.kernelImage === "vmlinux" ? built.vmlinux : built.bzImage;
      })());
    const guest = await ensureGuest({
      distro: values.distro,
      ...(values.mirror ? { mirror: values.mirror } : {}),
      ...guestNode(values.node),
      agentDir: defaultAgentDir(),
      dataDir: dataDir(),
      cacheDir,
      progress,
    });
    const forms: BootForm[] = values.form === "both" ? ["initrd", "image"] : [values.form as BootForm];
    const work = mkdtempSync(path.join(tmpdir(), "kata-boot-"));
    // Removed on Ctrl-C or SIGTERM too, unless --keep asked for it.
    if (!values.keep) trackTemporary(work);
    const reports: BootReport[] = [];
    try {
      for (const form of forms) {
        reports.push(
          await bootCheck({
            form,
            kernel,
            guest,
            workDir: work,
            memoryMiB: values.memory,
            cpus: values.cpus,
            timeoutSeconds: values.timeout,
            agentLogLevel: values.agentLog,
            progress,
            print: context.print,
            ...(values.shell
              ? {
                  beforeDestroy: async (client: TtrpcClient) => {
                    await interactiveShell(client, "long-running");
                  },
                }
              : {}),
          }),
        );
      }
      const baseline = values.baseline
        ? await progress.step("Baseline: the same kernel booting a busybox /init", () =>
            smokeBoot({ kernel, progress }),
          )
        : undefined;
      const failed = reports.filter((r) => r.scenario.exitCode !== 0 || r.scenario.execExitCode !== 0);
      if (!context.json) process.stderr.write(`\n${summary(reports, baseline?.markerSeconds)}\n`);
      if (failed.length)
        throw new BuildError(`containers exited non-zero in: ${failed.map((r) => r.form).join(", ")}`);
      return {
        kernel,
        guest: guest.dir,
        reports,
        baseline: baseline && { markerSeconds: baseline.markerSeconds },
      };
    } finally {
      if (values.keep) progress.info(`work directory kept: ${work}`);
      else {
        rmSync(work, { recursive: true, force: true });
        untrackTemporary(work);
      }
    }
  },
});

function summary(reports: BootReport[], baselineSeconds: number | undefined): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const lines = ["Boot timings (QEMU TCG):"];
  for (const r of reports) {
    lines.push(
      `  ${r.form.padEnd(7)} QEMU start -> kernel ${s(r.qemuToKernelMs)}, kernel -> agent ready ${s(r.kernelToAgentMs)}${r.agentStartupMs !== undefined ? ` (of which the agent's own start ${s(r.agentStartupMs)})` : ""}, agent ready -> container exit ${s(r.agentToContainerExitMs)}; vsock loopback check ${r.vsockCheckMs} ms; power-off ${s(r.shutdownMs)}`,
    );
  }
  if (baselineSeconds !== undefined) {
    for (const r of reports) {
      const agentReady = (r.qemuToKernelMs + r.kernelToAgentMs) / 1000;
      lines.push(
        `  ${r.form.padEnd(7)} QEMU start -> agent ready ${agentReady.toFixed(2)} s vs busybox /init ${baselineSeconds.toFixed(2)} s: the agent adds ${(agentReady - baselineSeconds).toFixed(2)} s (${(agentReady / baselineSeconds).toFixed(2)}x)`,
      );
    }
  }
  return lines.join("\n");
}

/** --node: "distro" keeps the distribution's nodejs; "host" is the Node.js running kata-build. */
function guestNode(choice: string): { node?: string } {
  if (choice === "distro") return {};
  return { node: choice === "host" ? process.execPath : path.resolve(choice) };
}
