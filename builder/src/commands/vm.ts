// kata-build vm: boot a kernel with an image or initrd (ours or a user's) and keep it running,
// printing where the agent answers, until Ctrl-C or until the guest powers itself off.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { bootRoot, ensureGuest } from "../boot/guest.js";
import { PROFILE_NAMES, PROFILES, type Profile, profileNamed } from "../boot/profiles.js";
import { type RunningVm, runVm, type VmExit } from "../boot/run-vm.js";
import { describeUserImage } from "../boot/user-image.js";
import { distroNames } from "../distro/index.js";
import type { InitMode } from "../distro/types.js";
import type { FsType } from "../formats/kernel-cmdline.js";
import { ensureKernel } from "../pipelines/kernel.js";
import { stopChildrenSync } from "../util/children.js";
import { BuildError } from "../util/errors.js";
import type { Parsed } from "../util/options.js";
import { dataDir, defaultAgentDir } from "../util/paths.js";
import type { Progress } from "../util/progress.js";
import { defineCommand } from "./command.js";
import { cacheDirOf, cacheOption, quietOption } from "./shared-options.js";

const DEFAULT_SOURCE = "/usr/src/linux-source-6.1.tar.xz";

const options = {
  kernel: { kind: "string", arg: "FILE", help: "boot this kernel (bzImage or PVH vmlinux) instead of ours" },
  image: { kind: "string", arg: "FILE", help: "boot this raw disk image instead of our guest" },
  initrd: { kind: "string", arg: "FILE", help: "boot this initrd instead of our guest" },
  fs: {
    kind: "string",
    arg: "TYPE",
    choices: ["ext4", "erofs"],
    help: "the image's filesystem (default: from IMAGE.manifest.json, else ext4; ours: ext4)",
  },
  dax: {
    kind: "boolean",
    help: "the image starts with the NVDIMM/DAX header (default: from IMAGE.manifest.json)",
  },
  verityParams: {
    kind: "string",
    arg: "LINE|FILE",
    help: "the image's kernel_verity_params (default: from IMAGE.manifest.json)",
  },
  profile: {
    kind: "string",
    arg: "NAME",
    choices: PROFILE_NAMES,
    default: "ours",
    help: "kernel command line and root attachment (see above)",
  },
  cmdline: {
    kind: "string",
    arg: "LINE",
    help: "the whole kernel command line, replacing the profile's and the agent's parameters",
  },
  append: { kind: "string", arg: "PARAMS", help: "extra kernel parameters, added last" },
  memory: { kind: "number", arg: "MiB", default: 1024, help: "guest memory" },
  scratchDisk: {
    kind: "number",
    arg: "MiB",
    help: "attach a blank disk of this size (virtio-blk at PCI path 10) for block volumes",
  },
  cpus: { kind: "number", arg: "N", default: 2, help: "guest vCPUs" },
  agentLog: { kind: "string", arg: "LEVEL", default: "info", help: "agent.log level in the guest" },
  init: {
    kind: "string",
    arg: "MODE",
    choices: ["agent", "systemd"],
    default: "agent",
    help: "our guest's init: the agent itself, or systemd starting kata-agent.service",
  },
  form: {
    kind: "string",
    arg: "FORM",
    choices: ["image", "initrd"],
    default: "image",
    help: "our guest as a disk image or as an initrd",
  },
  distro: {
    kind: "string",
    arg: "NAME",
    choices: distroNames,
    default: "debian",
    help: "our guest's distribution",
  },
  mirror: { kind: "string", arg: "URL|DIR", help: "package repository for our guest" },
  node: {
    kind: "string",
    arg: "distro|host|FILE",
    default: "distro",
    help: "our guest's Node.js: the distribution's, this machine's, or a binary",
  },
  kernelImage: {
    kind: "string",
    arg: "KIND",
    choices: ["bzImage", "vmlinux"],
    default: "bzImage",
    help: "which of our built kernels to boot",
  },
  source: {
    kind: "string",
    arg: "TARBALL|DIR|VERSION",
    default: DEFAULT_SOURCE,
    help: "our kernel's source",
  },
  dir: {
    kind: "string",
    arg: "DIR",
    help: "put the sockets, console log and share here (default: a new directory in $TMPDIR, removed at exit)",
  },
  share: {
    kind: "string",
    arg: "DIR",
    help: "host directory shared over 9p as kataShared (default: DIR/shared)",
  },
  keep: { kind: "boolean", help: "keep the default directory after exit" },
  json: { kind: "boolean", help: "print one JSON object per event on stdout (started, agent-ready, exited)" },
  cache: cacheOption,
  quiet: quietOption,
} as const;

type Values = Parsed<typeof options>;

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
  options,
  async run(values, _positionals, progress) {
    if (values.image && values.initrd) throw new BuildError("give --image or --initrd, not both");
    const profile = profileNamed(values.profile);
    const cacheDir = cacheDirOf(values.cache);
    const kernel = values.kernel
      ? path.resolve(values.kernel)
      : await (async () => {
          const built = await ensureKernel({
            hypervisor: "kvm",
            arch: "x86_64",
            source: values.source,
            cacheDir,
            progress,
          });
          return values.kernelImage === "vmlinux" ? built.vmlinux : built.bzImage;
        })();
    const { root, init } = await chooseRoot(values, profile, cacheDir, progress);

    const ownDir = !values.dir;
    const dir = values.dir
      ? path.resolve(values.dir)
      : mkdtempSync(path.join(path.resolve(process.env.TMPDIR ?? tmpdir()), "kata-vm-"));
    mkdirSync(dir, { recursive: true });
    const cleanup = () => {
      if (ownDir && !values.keep) rmSync(dir, { recursive: true, force: true });
    };
    let vm: RunningVm;
    try {
      vm = await runVm({
        kernel,
        root,
        ...(init ? { init } : {}),
        profile,
        ...(values.cmdline ? { cmdline: values.cmdline } : {}),
        ...(values.append ? { append: values.append } : {}),
        dir,
        ...(values.share ? { share: path.resolve(values.share) } : {}),
        memoryMiB: values.memory,
        cpus: values.cpus,
        agentLogLevel: values.agentLog,
        ...(values.scratchDisk ? { scratchDiskMiB: values.scratchDisk } : {}),
      });
    } catch (err) {
      cleanup();
      throw err;
    }
    const out = (event: Record<string, unknown>, text: string) =>
      process.stdout.write(values.json ? `${JSON.stringify(event)}\n` : `${text}\n`);
    const a = vm.addresses;
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
    progress.info(`kernel command line: ${a.cmdline}`);
    progress.info("running; Ctrl-C stops it");

    // Ahead of the workspace's interrupt handler, which would exit without saying what stopped.
    const onSignal = (signal: NodeJS.Signals) => {
      process.stderr.write(`\nkata-build vm: ${signal}: stopping the VM\n`);
      stopChildrenSync();
      cleanup();
      out({ event: "exited", reason: "signal", signal }, `stopped (${signal})`);
      process.exit(signal === "SIGINT" ? 130 : 143);
    };
    process.prependOnceListener("SIGINT", onSignal);
    process.prependOnceListener("SIGTERM", onSignal);
    void vm.agentReady.then((r) =>
      out(
        {
          event: "agent-ready",
          seconds: r.seconds,
          ...(r.startupMs !== undefined ? { startupMs: r.startupMs } : {}),
        },
        `agent ready     ${r.seconds.toFixed(1)} s after QEMU started`,
      ),
    );
    const exit = await vm.exited;
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    cleanup();
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
  },
});

function exitText(exit: VmExit): string {
  if (exit.reason === "poweroff") return "the guest powered off";
  if (exit.reason === "panic") return "the guest kernel panicked";
  return "QEMU failed";
}

/** The root to boot: the user's image or initrd, or our guest in the form asked for. */
async function chooseRoot(
  values: Values,
  profile: Profile,
  cacheDir: string,
  progress: Progress,
): Promise<{ root: Parameters<typeof runVm>[0]["root"]; init?: InitMode }> {
  if (values.initrd) return { root: { kind: "initrd", path: path.resolve(values.initrd) } };
  if (values.image) {
    const image = await describeUserImage(path.resolve(values.image), {
      ...(values.fs ? { fs: values.fs as FsType } : {}),
      ...(values.dax ? { dax: true } : {}),
      ...(values.verityParams !== undefined ? { verityParams: values.verityParams } : {}),
    });
    return { root: { kind: "image", ...image } };
  }
  const init = values.init as InitMode;
  const guest = await ensureGuest({
    distro: values.distro,
    init,
    ...(values.mirror ? { mirror: values.mirror } : {}),
    ...(values.node === "distro"
      ? {}
      : { node: values.node === "host" ? process.execPath : path.resolve(values.node) }),
    agentDir: defaultAgentDir(),
    dataDir: dataDir(),
    cacheDir,
    progress,
  });
  const fs = (values.fs ?? "ext4") as FsType;
  const root = await bootRoot(guest, values.form as "image" | "initrd", { fs, ...profile.image });
  return { root, init };
}
