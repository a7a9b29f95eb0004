// kata-build boot: the main job (the library's boot()): builds or takes from the cache the kvm
// guest kernel and an agent-as-init guest, boots it under QEMU, and runs containers through the
// agent like the Kata runtime, printing their output and how long each phase took.
import { type BootReport, boot, bootOptions } from "../api/boot.js";
import { BuildError } from "../util/errors.js";
import { defineCommand } from "./command.js";

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
  configurable: true,
  async run(values, _positionals, context) {
    const result = await boot(values, { ...context.hooks, onOutput: context.print });
    if (!context.json) process.stderr.write(`\n${summary(result.reports, result.baseline?.markerSeconds)}\n`);
    if (result.failedForms.length) {
      throw new BuildError(`containers exited non-zero in: ${result.failedForms.join(", ")}`);
    }
    return result;
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
