// vm(): boot a kernel with an image or initrd (ours or a user's) and keep it running, saying
// where the agent answers, until the caller stops it or the guest powers itself off
// (`kata-build vm`). A program gets the machine as a handle:
//
//   const machine = await vm({ image: "out/kata-containers.img" });
//   await machine.agentReady;
//   const client = await connect(machine.addresses.agent);
//   ...
//   await machine.stop();
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { UsageError } from "../../../agent/src/cli/index.js";
import { bootRoot, ensureGuest } from "../boot/guest.js";
import { type Profile, profileNamed } from "../boot/profiles.js";
import { runVm, type VmAddresses, type VmExit } from "../boot/run-vm.js";
import { describeUserImage } from "../boot/user-image.js";
import { distroNames } from "../distro/index.js";
import type { InitMode } from "../distro/types.js";
import type { FsType } from "../formats/kernel-cmdline.js";
import type { Given, OptionTable, Parsed } from "../util/options.js";
import { resolveOptions } from "../util/options.js";
import { dataDir, defaultAgentDir } from "../util/paths.js";
import type { Progress } from "../util/progress.js";
import { type BuildHooks, progressOf } from "./hooks.js";
import {
  bootKernel,
  bootKernelOptions,
  bootMachineOptions,
  cacheDirOf,
  cacheOption,
} from "./shared-options.js";

export type { VmAddresses, VmExit } from "../boot/run-vm.js";

export const vmOptions = {
  ...bootKernelOptions,
  image: { kind: "string", arg: "FILE", path: true, help: "boot this raw disk image instead of our guest" },
  initrd: { kind: "string", arg: "FILE", path: true, help: "boot this initrd instead of our guest" },
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
  ...bootMachineOptions,
  cmdline: {
    kind: "string",
    arg: "LINE",
    help: "the whole kernel command line, replacing the profile's and the agent's parameters",
  },
  scratchDisk: {
    kind: "number",
    arg: "MiB",
    help: "attach a blank disk of this size (virtio-blk at PCI path 10) for block volumes",
  },
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
  dir: {
    kind: "string",
    arg: "DIR",
    path: true,
    help: "put the sockets, console log and share here (default: a new directory in $TMPDIR, removed at exit)",
  },
  share: {
    kind: "string",
    arg: "DIR",
    path: true,
    help: "host directory shared over 9p as kataShared (default: DIR/shared)",
  },
  keep: { kind: "boolean", help: "keep the default directory after exit" },
  cache: cacheOption,
} as const satisfies OptionTable;

export type VmOptions = Given<typeof vmOptions>;

/** A running machine. */
export interface Vm {
  /** Where the agent, its vsock listener, the debug console, the share and the console log are. */
  addresses: VmAddresses;
  /** Resolves when the agent logs that it is ready. */
  agentReady: Promise<{ seconds: number; startupMs?: number }>;
  /** Settles when QEMU has exited (the guest powered off, panicked, or QEMU failed), saying why. */
  exited: Promise<VmExit>;
  /** Stops QEMU, waits for it, and removes the directory vm() made (unless `keep`). */
  stop(): Promise<VmExit>;
  /** For a signal handler that has stopped QEMU itself: removes the directory vm() made. */
  disposeSync(): void;
}

export async function vm(options: VmOptions = {}, hooks: BuildHooks = {}): Promise<Vm> {
  const values = resolveOptions(vmOptions, options);
  const progress = progressOf(hooks);
  if (values.image && values.initrd) throw new UsageError("give --image or --initrd, not both");
  const profile = profileNamed(values.profile);
  const cacheDir = cacheDirOf(values.cache);
  const kernel = await bootKernel(values, cacheDir, progress);
  const { root, init } = await chooseRoot(values, profile, cacheDir, progress);

  const ownDir = !values.dir;
  const dir = values.dir ?? mkdtempSync(path.join(path.resolve(process.env.TMPDIR ?? tmpdir()), "kata-vm-"));
  mkdirSync(dir, { recursive: true });
  const disposeSync = () => {
    if (ownDir && !values.keep) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const running = await runVm({
      kernel,
      root,
      ...(init ? { init } : {}),
      profile,
      ...(values.cmdline ? { cmdline: values.cmdline } : {}),
      ...(values.append ? { append: values.append } : {}),
      dir,
      ...(values.share ? { share: values.share } : {}),
      memoryMiB: values.memory,
      cpus: values.cpus,
      agentLogLevel: values.agentLog,
      ...(values.scratchDisk ? { scratchDiskMiB: values.scratchDisk } : {}),
    });
    progress.info(`kernel command line: ${running.addresses.cmdline}`);
    const exited = running.exited.then((exit) => {
      disposeSync();
      return exit;
    });
    return {
      addresses: running.addresses,
      agentReady: running.agentReady,
      exited,
      async stop() {
        await running.stop();
        return exited;
      },
      disposeSync,
    };
  } catch (err) {
    disposeSync();
    throw err;
  }
}

/** The root to boot: the user's image or initrd, or our guest in the form asked for. */
async function chooseRoot(
  values: Parsed<typeof vmOptions>,
  profile: Profile,
  cacheDir: string,
  progress: Progress,
): Promise<{ root: Parameters<typeof runVm>[0]["root"]; init?: InitMode }> {
  if (values.initrd) return { root: { kind: "initrd", path: values.initrd } };
  if (values.image) {
    const image = await describeUserImage(values.image, {
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
