// boot(): the boot check. Builds (or takes from the cache) the kvm guest kernel and a guest (the
// agent as init, or systemd starting it), boots it under QEMU with our command line or the one
// the Kata runtime builds, and runs containers through the agent like the runtime, reporting how
// long each phase took (`kata-build boot`).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TtrpcClient } from "../../../agent/src/client/index.js";
import { bootRoot, ensureGuest } from "../boot/guest.js";
import { type BootForm, type BootReport, bootCheck } from "../boot/index.js";
import { profileNamed } from "../boot/profiles.js";
import { interactiveShell } from "../boot/shell.js";
import { smokeBoot } from "../boot/smoke.js";
import { distroNames } from "../distro/index.js";
import type { InitMode } from "../distro/types.js";
import type { FsType } from "../formats/kernel-cmdline.js";
import { BuildError } from "../util/errors.js";
import type { Given } from "../util/options.js";
import { type OptionTable, resolveOptions } from "../util/options.js";
import { dataDir, defaultAgentDir } from "../util/paths.js";
import { trackTemporary, untrackTemporary } from "../workspace/atomic.js";
import { type BuildHooks, progressOf } from "./hooks.js";
import {
  bootKernel,
  bootKernelOptions,
  bootMachineOptions,
  cacheDirOf,
  cacheOption,
} from "./shared-options.js";

export type { AgentStartup } from "../boot/console.js";
export type { BootForm, BootReport } from "../boot/index.js";
export { PROFILE_NAMES, PROFILES } from "../boot/profiles.js";

export const bootOptions = {
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
  ...bootMachineOptions,
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
  ...bootKernelOptions,
  shell: {
    kind: "boolean",
    help: "open an interactive shell in the container (tty, window resize) before tearing down",
  },
  baseline: { kind: "boolean", default: true, help: "also time the kernel booting a busybox /init" },
  cache: cacheOption,
  keep: { kind: "boolean", help: "keep the work directory (console logs, sockets)" },
  timeout: { kind: "number", arg: "SECONDS", default: 600, help: "give up on a boot after this long" },
} as const satisfies OptionTable;

export type BootOptions = Given<typeof bootOptions>;

export interface BootHooks extends BuildHooks {
  /** What the containers print (the first one's output, the exec's), as it arrives. */
  onOutput?: (text: string) => void;
}

export interface BootResult {
  kernel: string;
  /** The cached guest booted. */
  guest: string;
  /** One report per form booted: the phases' times and what the scenario saw. */
  reports: BootReport[];
  /** The same kernel booting a busybox /init (with `baseline`). */
  baseline?: { markerSeconds: number };
  /** Forms whose containers exited non-zero: the check failed there. */
  failedForms: BootForm[];
}

/** With `shell`, an interactive shell in the container on this process's terminal before teardown. */
export async function boot(options: BootOptions = {}, hooks: BootHooks = {}): Promise<BootResult> {
  const values = resolveOptions(bootOptions, options);
  const progress = progressOf(hooks);
  const cacheDir = cacheDirOf(values.cache);
  const kernel = await bootKernel(values, cacheDir, progress);
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
            hooks.onOutput?.(text);
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
    return {
      kernel,
      guest: guest.dir,
      reports,
      ...(baseline ? { baseline: { markerSeconds: baseline.markerSeconds } } : {}),
      failedForms: failed.map((r) => r.form),
    };
  } finally {
    if (values.keep) progress.info(`work directory kept: ${work}`);
    else {
      rmSync(work, { recursive: true, force: true });
      untrackTemporary(work);
    }
  }
}

/** --node: "distro" keeps the distribution's nodejs; "host" is the Node.js running kata-build. */
function guestNode(choice: string): { node?: string } {
  if (choice === "distro") return {};
  return { node: choice === "host" ? process.execPath : path.resolve(choice) };
}
