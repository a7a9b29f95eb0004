// kata-build vm: boot a kernel with an image or initrd (ours or a user's) and keep it running,
// printing where the agent answers, until Ctrl-C or until the guest powers itself off (the
// library's vm()). With --json it prints one JSON object per event as it happens.
import { PROFILE_NAMES, PROFILES } from "../api/boot.js";
import { type VmExit, vm, vmOptions } from "../api/vm.js";
import { stopChildrenSync } from "../util/children.js";
import { BuildError } from "../util/errors.js";
import { defineCommand } from "./command.js";

export const vmCommand = defineCommand({
  name: "vm",
  summary: "boot a guest (ours or yours) in QEMU and keep it running, the agent on a host socket",
  usage: "kata-build vm [--kernel FILE] [--image FILE | --initrd FILE] [--profile NAME] [options]",
  description: [
    "Boots a kernel with a disk image or an initrd under QEMU (q35, TCG) and leaves it running, so",
    "that anything can talk to the agent inside: kata-agent-ctl, your own protocol tests, a runtime.",
    "Without --image/--initrd it boots our Debian guest (built or taken from the cache, as `kata-build",
    "boot` does); without --kernel, our kvm kernel. It prints, on stdout:",
    "  agent          unix://DIR/agent.sock: the agent's ttrpc server on the virtio-serial port",
    "                 agent.channel.0 (agent.server_addr=serial://agent.channel.0 is on the command line)",
    "  agent (vsock)  unix://DIR/vsock-bridge.sock: in our guests, the agent's vsock://-1:1024 listener",
    "                 relayed by an in-guest bridge over vsock loopback",
    "  debug console  unix://DIR/console.sock: agent.debug_console on a virtio-serial port (also on",
    "                 vsock port 1026 in the guest); `kata-agent-ctl console ADDR` opens the shell",
    "  shared (9p)    DIR/shared, tag kataShared: mount it in the guest with a 9p storage in",
    "                 CreateSandbox, at /run/kata-containers/shared/containers as the runtime does",
    "  console log    DIR/console.log, and QEMU's pid",
    "then `agent ready` when the agent logs it. It runs until Ctrl-C (SIGINT or SIGTERM: QEMU is",
    "stopped, DIR removed, exit 130 or 143) or until the guest powers off (after DestroySandbox the",
    "agent powers it off: exit 0). A kernel panic or a failing QEMU exits 1 with the console's tail.",
    "",
    "Command line profiles (--profile):",
    ...PROFILE_NAMES.map((n) => `  ${n.padEnd(20)} ${PROFILES[n].summary}`),
    "The profile also decides how the image is attached (virtio-blk, or an NVDIMM for",
    "runtime-qemu-nvdimm, which needs an image made with --dax). The root parameters come from the",
    "image: its filesystem, DAX header and dm-verity parameters (IMAGE.manifest.json from",
    "`kata-build image`, or --fs/--dax/--verity-params). --cmdline replaces the whole line: include",
    "agent.server_addr=serial://agent.channel.0 in it, or the agent socket stays silent.",
  ].join("\n"),
  options: vmOptions,
  configurable: true,
  streams: true,
  async run(values, _positionals, context) {
    const machine = await vm(values, context.hooks);
    const out = (event: Record<string, unknown>, text: string) => context.event(event, text);
    const a = machine.addresses;
    out(
      { event: "started", ...a },
      [
        `agent           ${a.agent}`,
        ...(a.vsockBridge ? [`agent (vsock)   ${a.vsockBridge}`] : []),
        `debug console   ${a.debugConsole}`,
        ...(a.scratchDisk
          ? [`scratch disk    ${a.scratchDisk.path} (PCI path ${a.scratchDisk.pciPath})`]
          : []),
        `shared (9p)     ${a.shared} (tag ${a.shareTag})`,
        `console log     ${a.consoleLog}`,
        `qemu pid        ${a.pid ?? "?"}`,
      ].join("\n"),
    );
    context.hooks.onProgress?.({ type: "info", message: "running; Ctrl-C stops it", depth: 0 });

    // Ahead of the workspace's interrupt handler, which would exit without saying what stopped.
    const onSignal = (signal: NodeJS.Signals) => {
      process.stderr.write(`\nkata-build vm: ${signal}: stopping the VM\n`);
      stopChildrenSync();
      machine.disposeSync();
      out({ event: "exited", reason: "signal", signal }, `stopped (${signal})`);
      process.exit(signal === "SIGINT" ? 130 : 143);
    };
    process.prependOnceListener("SIGINT", onSignal);
    process.prependOnceListener("SIGTERM", onSignal);
    void machine.agentReady.then((r) =>
      out(
        {
          event: "agent-ready",
          seconds: r.seconds,
          ...(r.startupMs !== undefined ? { startupMs: r.startupMs } : {}),
        },
        `agent ready     ${r.seconds.toFixed(1)} s after QEMU started`,
      ),
    );
    const exit = await machine.exited;
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    out({ event: "exited", ...exit }, exitText(exit));
    if (exit.reason === "panic") {
      throw new BuildError(`the guest kernel panicked: ${exit.line}`, `console:\n${exit.consoleTail}`);
    }
    if (exit.reason === "qemu-failed") {
      throw new BuildError(
        `QEMU exited with status ${exit.exitCode ?? "?"}: ${exit.stderr || "(nothing on its stderr)"}`,
        `console:\n${exit.consoleTail}`,
      );
    }
    return exit;
  },
});

function exitText(exit: VmExit): string {
  if (exit.reason === "poweroff") return "the guest powered off";
  if (exit.reason === "panic") return "the guest kernel panicked";
  return "QEMU failed";
}
