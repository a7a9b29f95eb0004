// kata-build boot: the main job (the library's boot()). Builds (or takes from the cache) the kvm
// guest kernel and a guest (the agent as init, or systemd starting it), boots it under QEMU with
// our command line or the one the Kata runtime builds, and runs containers through the agent like
// the runtime, printing their output and how long each phase took.
import {
  type AgentStartup,
  type BootReport,
  boot,
  bootOptions,
  PROFILE_NAMES,
  PROFILES,
} from "../api/boot.js";
import { BuildError } from "../util/errors.js";
import { defineCommand } from "./command.js";

export const bootCommand = defineCommand({
  name: "boot",
  summary: "build a guest, boot it in QEMU and run containers through the agent",
  usage:
    "kata-build boot [--form initrd|image|both] [--init agent|systemd] [--fs ext4|erofs] [--profile NAME] [options]",
  description: [
    "Builds (or reuses from the cache) the kvm guest kernel and a Debian guest (--init agent: the",
    "agent is /sbin/init; --init systemd: systemd starts kata-agent.service, as the runtime's disk",
    "images do), then boots it under QEMU (q35, TCG) as an initrd and as a disk image. The host",
    "reaches the agent over a virtio-serial port; a bridge in the guest also exposes the agent's vsock",
    "listener (vsock loopback), which is checked too. Then, like the Kata runtime: CreateSandbox with a",
    "9p shared filesystem, a container running `uname -a; cat /etc/os-release; id` (output shown),",
    "WaitProcess, an exec into a second container, RemoveContainer, DestroySandbox, and the guest",
    "powers off. Prints the time of each phase, and the same kernel's boot to a busybox /init.",
    "",
    "Command line profiles (--profile):",
    ...PROFILE_NAMES.map((n) => `  ${n.padEnd(20)} ${PROFILES[n].summary}`),
    "The image each boots: ours and runtime-clh a dm-verity image on virtio-blk (the root opened by",
    "dm-mod.create=, no initramfs), runtime-qemu-nvdimm an image with the DAX header attached as an",
    "NVDIMM (-machine nvdimm=on, a read-only memory-backend-file, -device nvdimm). To every line the",
    "boot check adds agent.server_addr (the virtio-serial port instead of the vsock the runtime",
    "dials), agent.log, and for agent-as-init guests init= (the bridge's wrapper); then --append.",
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
      `  ${r.form.padEnd(7)} (${r.init} init, ${r.profile}) QEMU start -> kernel ${s(r.qemuToKernelMs)}, kernel -> agent ready ${s(r.kernelToAgentMs)}${r.agentStartupMs !== undefined ? ` (of which the agent's own start ${s(r.agentStartupMs)})` : ""}, agent ready -> container exit ${s(r.agentToContainerExitMs)}${r.vsockCheckMs !== undefined ? `; vsock loopback check ${r.vsockCheckMs} ms` : ""}; power-off ${s(r.shutdownMs)}`,
    );
  }
  for (const r of reports) {
    const root = r.scenario.guestRoot;
    if (root)
      lines.push(
        `  ${r.form.padEnd(7)} guest root: ${root.device} (${root.fstype}, ${root.options.join(",")})`,
      );
    lines.push(
      `  ${r.form.padEnd(7)} debug console answered in ${r.debugConsole.ms} ms: ${r.debugConsole.line}`,
    );
    if (r.agentStartup) lines.push(`          ${startupLine(r.agentStartup, r.scenario.agentRssAnonKb)}`);
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

/** The agent's start in one line: where it started from, its phases, first call, memory. */
export function startupLine(a: AgentStartup, rssAnonKb?: number): string {
  const ms = (n: number) => `${Math.round(n)} ms`;
  const phases = Object.entries(a.phasesMs)
    .map(([name, n]) => `${name} ${ms(n)}`)
    .join(", ");
  return [
    `agent from its ${a.snapshot ? "start-up snapshot" : "bundle"}: ${phases}`,
    ...(a.firstCallMs !== undefined ? [`first call answered at ${ms(a.firstCallMs)}`] : []),
    ...(a.rssAnonKb !== undefined ? [`RssAnon then ${(a.rssAnonKb / 1024).toFixed(1)} MB`] : []),
    ...(rssAnonKb !== undefined ? [`RssAnon after the containers ${(rssAnonKb / 1024).toFixed(1)} MB`] : []),
  ].join("; ");
}
