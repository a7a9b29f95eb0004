// Options several commands take, defined once so that they read and behave alike everywhere.
import { PROFILE_NAMES } from "../boot/profiles.js";
import { ensureKernel } from "../pipelines/kernel.js";
import type { OptionSpec } from "../util/options.js";
import { defaultCacheDir } from "../util/paths.js";
import type { Progress } from "../util/progress.js";

export const cacheOption = {
  kind: "string",
  arg: "DIR",
  path: true,
  help: "cache shared by every command: packages, kernels, guests (default: $KATA_BUILD_CACHE or ~/.cache/kata-build)",
} as const satisfies OptionSpec<"string">;

/** The cache directory a resolved --cache value names. */
export function cacheDirOf(value: string | undefined): string {
  return value ?? defaultCacheDir();
}

export function outOption<const D extends string>(defaultDir: D) {
  return {
    kind: "string",
    short: "o",
    arg: "DIR",
    default: defaultDir,
    path: true,
    help: "output directory",
  } as const satisfies OptionSpec<"string">;
}

/** The root filesystem that `image` and `initrd` pack. */
export const rootfsInputOption = {
  kind: "string",
  arg: "DIR|TAR",
  default: "out/rootfs",
  path: true,
  help: "root filesystem tree or tarball",
} as const satisfies OptionSpec<"string">;

/** Debian's kernel source package, which the commands that boot build their kernel from. */
const DEFAULT_KERNEL_SOURCE = "/usr/src/linux-source-6.1.tar.xz";

/** The kernel `boot` and `vm` boot: a given one, or ours (built once, then from the cache). */
export const bootKernelOptions = {
  kernel: {
    kind: "string",
    arg: "FILE",
    path: true,
    help: "boot this kernel (bzImage, or vmlinux with a PVH entry) instead of building ours",
  },
  source: {
    kind: "string",
    arg: "TARBALL|DIR|VERSION",
    default: DEFAULT_KERNEL_SOURCE,
    help: "source of the kernel built when no --kernel is given",
  },
  kernelImage: {
    kind: "string",
    arg: "KIND",
    choices: ["bzImage", "vmlinux"],
    default: "bzImage",
    help: "which built kernel to boot (vmlinux boots through its PVH entry)",
  },
} as const satisfies Record<string, OptionSpec<"string">>;

/** How `boot` and `vm` start the machine: the command-line profile, extra parameters, its size, the agent's log level. */
export const bootMachineOptions = {
  profile: {
    kind: "string",
    arg: "NAME",
    choices: PROFILE_NAMES,
    default: "ours",
    help: "kernel command line and root attachment (see above)",
  },
  append: { kind: "string", arg: "PARAMS", help: "extra kernel parameters, added last" },
  memory: { kind: "number", arg: "MiB", default: 1024, help: "guest memory" },
  cpus: { kind: "number", arg: "N", default: 2, help: "guest vCPUs" },
  agentLog: { kind: "string", arg: "LEVEL", default: "info", help: "agent.log level in the guest" },
} as const satisfies Record<string, OptionSpec<"string"> | OptionSpec<"number">>;

/** The kernel file those options name, building ours (for KVM guests) when none is given. */
export async function bootKernel(
  values: { kernel?: string | undefined; source: string; kernelImage: string },
  cacheDir: string,
  progress: Progress,
): Promise<string> {
  if (values.kernel) return values.kernel;
  const built = await ensureKernel({
    hypervisor: "kvm",
    arch: "x86_64",
    source: values.source,
    cacheDir,
    progress,
  });
  return values.kernelImage === "vmlinux" ? built.vmlinux : built.bzImage;
}
