// kata-build boot: the main job. Builds (or takes from the cache) the kvm guest kernel and a
// guest (the agent as init, or systemd starting it), boots it under QEMU with our command line
// or the one the Kata runtime builds, and runs containers through the agent like the runtime,
// printing their output and how long each phase took.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TtrpcClient } from "../../../agent/src/client/index.js";
import { bootRoot, ensureGuest } from "../boot/guest.js";
import { type BootForm, type BootReport, bootCheck } from "../boot/index.js";
import { PROFILE_NAMES, PROFILES, profileNamed } from "../boot/profiles.js";
import { interactiveShell } from "../boot/shell.js";
import { smokeBoot } from "../boot/smoke.js";
import { distroNames } from "../distro/index.js";
import type { InitMode } from "../distro/types.js";
import type { FsType } from "../formats/kernel-cmdline.js";
import { ensureKernel } from "../pipelines/kernel.js";
import { BuildError } from "../util/errors.js";
import { dataDir, defaultAgentDir } from "../util/paths.js";
import { trackTemporary, untrackTemporary } from "../workspace/atomic.js";
import { defineCommand } from "./command.js";
import { cacheDirOf, cacheOption, quietOption } from "./shared-options.js";

const DEFAULT_SOURCE = "/usr/src/linux-source-6.1.tar.xz";

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
  options: {
    form: {
      kind: "string",
      arg: "FORM",
      choices: ["initrd", "image", "both"],
      default: "both",
      help: "guest form(s) to boot",
    },
    init: {
      kind: "string",
      arg: "MODE",
      choices: ["agent", "systemd"],
      default: "agent",
      help: "the guest's init: the agent itself (fast), or systemd starting kata-agent.service",
    },
    fs: {
      kind: "string",
      arg: "TYPE",
      choices: ["ext4", "erofs"],
      default: "ext4",
      help: "the image's filesystem (erofs: lz4hc-compressed, read by the guest kernel's EROFS_FS_ZIP)",
    },
    profile: {
      kind: "string",
      arg: "NAME",
      choices: PROFILE_NAMES,
      default: "ours",
      help: "kernel command line and root attachment (see above)",
    },
    append: { kind: "string", arg: "PARAMS", help: "extra kernel parameters, added last" },
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
    json: { kind: "boolean", help: "print the timings as JSON on stdout" },
    cache: cacheOption,
    keep: { kind: "boolean", help: "keep the work directory (console logs, sockets)" },
    timeout: { kind: "number", arg: "SECONDS", default: 600, help: "give up on a boot after this long" },
    quiet: quietOption,
  },
  async run(values, _positionals, progress) {
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
    const profile = profileNamed(values.profile);
    const fs = values.fs as FsType;
    if (fs === "erofs" && profile.image.dax) {
      throw new BuildError(
        `the ${profile.name} profile boots an image with the DAX header, and erofs images are made without one`,
        "boot erofs images with --profile ours or runtime-clh (as upstream, erofs is never DAX-mapped)",
      );
    }
    const guest = await ensureGuest({
      distro: values.distro,
      init: values.init as InitMode,
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
            root: await bootRoot(guest, form, { fs, ...profile.image }),
            init: guest.init,
            profile: profile.name,
            ...(values.append ? { append: values.append } : {}),
            kernel,
            workDir: work,
            memoryMiB: values.memory,
            cpus: values.cpus,
            timeoutSeconds: values.timeout,
            agentLogLevel: values.agentLog,
            progress,
            print: (text) => {
              if (!values.json) process.stdout.write(text);
            },
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
      if (values.json) {
        process.stdout.write(
          `${JSON.stringify({ kernel, guest: guest.dir, reports, baseline: baseline && { markerSeconds: baseline.markerSeconds } }, null, 2)}\n`,
        );
      } else {
        process.stderr.write(`\n${summary(reports, baseline?.markerSeconds)}\n`);
      }
      if (failed.length)
        throw new BuildError(`containers exited non-zero in: ${failed.map((r) => r.form).join(", ")}`);
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
