// The kernel command lines a guest is booted with, and how its root is attached. `ours` is the
// boot check's own line (serial console, verbose, verity image on virtio-blk). The two runtime
// profiles reproduce what the Kata Go runtime builds for a non-debug, non-confidential guest:
//
// - runtime-clh, Cloud Hypervisor: the root parameters (from kernel_verity_params when the image
//   has a hash tree, on virtio-blk: CLH never attaches the image as an NVDIMM), then
//   `panic=1 no_timer_check noreplace-smp`, then `quiet`. CLH's console is off unless debugging,
//   so the console named here is hvc0, the one CLH gives confidential guests in debug mode.
// - runtime-qemu-nvdimm, QEMU with the image as an NVDIMM: the x86_64 QEMU parameters, the root
//   on /dev/pmem0p1 with DAX, `console=hvc0 console=hvc1` (the virtio console QEMU gets), `quiet
//   systemd.show_status=false`, `panic=1 nr_cpus=N`, and `selinux=0` (disable_guest_selinux).
//
// For an image (not an initrd) the runtime then adds the systemd unit and masks, QEMU's default
// virtio-scsi block driver adds `scsi_mod.scan=none`, and the agent's section adds
// `agent.cdh_api_timeout=50`. The configuration's own kernel_params come last: here, `--append`.
import {
  dmModCreate,
  type FsType,
  rootParams,
  runtimeRootParams,
  type VerityParams,
} from "../formats/kernel-cmdline.js";
import { BuildError } from "../util/errors.js";

export const PROFILE_NAMES = ["ours", "runtime-clh", "runtime-qemu-nvdimm"] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** An image as a profile needs to know it. */
export interface BootImage {
  path: string;
  fs: FsType;
  /** The image starts with the NVDIMM/DAX header. */
  dax: boolean;
  /** Its dm-verity parameters, when it has a hash tree. */
  verity?: VerityParams;
}

export type BootRoot = { kind: "initrd"; path: string } | ({ kind: "image" } & BootImage);

export interface Profile {
  name: ProfileName;
  summary: string;
  /** How an image is attached: virtio-blk, or NVDIMM. */
  attach: "disk" | "nvdimm";
  /** The console device the command line names. */
  console: "serial" | "virtconsole";
  /** The image this profile boots by default: with a hash tree, with the DAX header. */
  image: { verity: boolean; dax: boolean };
  /** The command line, without the boot harness's own additions. */
  cmdline(root: BootRoot, cpus: number): string;
}

/** The x86_64 parameters the runtime gives every QEMU guest. */
const QEMU_X86_64 = [
  "tsc=reliable",
  "no_timer_check",
  "rcupdate.rcu_expedited=1",
  "i8042.direct=1",
  "i8042.dumbkbd=1",
  "i8042.nopnp=1",
  "i8042.noaux=1",
  "noreplace-smp",
  "reboot=k",
  "cryptomgr.notests",
  "net.ifnames=0",
  "pci=lastbus=0",
];

/** What the runtime adds when it boots an image: systemd starts the agent's target. */
const SYSTEMD_IMAGE = [
  "systemd.unit=kata-containers.target",
  "systemd.mask=systemd-networkd.service",
  "systemd.mask=systemd-networkd.socket",
];

/** The agent section's default: the confidential data hub's call timeout, in seconds. */
const AGENT_DEFAULTS = ["agent.cdh_api_timeout=50"];

const ours: Profile = {
  name: "ours",
  summary: "the boot check's own line: serial console, kernel messages shown, image on virtio-blk",
  attach: "disk",
  console: "serial",
  image: { verity: true, dax: false },
  cmdline(root) {
    const base = "console=ttyS0 loglevel=6 printk.time=1 panic=-1 reboot=acpi";
    if (root.kind === "initrd") return base;
    const rootLine = root.verity
      ? `${dmModCreate(root.verity, "/dev/vda1", "/dev/vda2")} ${rootParams(root.fs, false, "/dev/dm-0")}`
      : rootParams(root.fs, false, "/dev/vda1");
    return `${base} ${rootLine}`;
  },
};

const runtimeClh: Profile = {
  name: "runtime-clh",
  summary: "the Kata runtime's Cloud Hypervisor line: root from kernel_verity_params on virtio-blk, quiet",
  attach: "disk",
  console: "virtconsole",
  image: { verity: true, dax: false },
  cmdline(root) {
    // CLH computes the root parameters for an initrd too; the kernel ignores them then.
    const fs = root.kind === "image" ? root.fs : "ext4";
    const verity = root.kind === "image" ? root.verity : undefined;
    return [
      runtimeRootParams(fs, "blk", { dax: false, ...(verity ? { verity } : {}) }),
      "panic=1 no_timer_check noreplace-smp",
      "quiet",
      "console=hvc0",
      ...(root.kind === "image" ? SYSTEMD_IMAGE : []),
      ...AGENT_DEFAULTS,
    ].join(" ");
  },
};

const runtimeQemuNvdimm: Profile = {
  name: "runtime-qemu-nvdimm",
  summary: "the Kata runtime's QEMU line with the image as an NVDIMM (DAX, /dev/pmem0p1), quiet",
  attach: "nvdimm",
  console: "virtconsole",
  image: { verity: false, dax: true },
  cmdline(root, cpus) {
    const image = root.kind === "image";
    if (image && !root.dax) {
      throw new BuildError(
        `${root.path} has no NVDIMM/DAX header, which the runtime-qemu-nvdimm profile needs`,
        "build the image with `kata-build image --dax`",
      );
    }
    if (image && root.verity) {
      throw new BuildError("the runtime-qemu-nvdimm profile boots images without dm-verity");
    }
    return [
      ...QEMU_X86_64,
      ...(image ? [runtimeRootParams(root.fs, "pmem", { dax: true })] : []),
      "console=hvc0 console=hvc1",
      image ? "quiet systemd.show_status=false" : "quiet",
      `panic=1 nr_cpus=${cpus}`,
      "selinux=0",
      ...(image ? SYSTEMD_IMAGE : []),
      "scsi_mod.scan=none",
      ...AGENT_DEFAULTS,
    ].join(" ");
  },
};

export const PROFILES: Record<ProfileName, Profile> = {
  ours,
  "runtime-clh": runtimeClh,
  "runtime-qemu-nvdimm": runtimeQemuNvdimm,
};

export function profileNamed(name: string): Profile {
  const profile = PROFILES[name as ProfileName];
  if (!profile) {
    throw new BuildError(`unknown boot profile '${name}'`, `choose one of: ${PROFILE_NAMES.join(", ")}`);
  }
  return profile;
}

/** What the guest boots from, as the machine attaches it. */
export type VmRoot =
  | { kind: "initrd"; path: string }
  | { kind: "disk"; path: string }
  | { kind: "nvdimm"; path: string };
