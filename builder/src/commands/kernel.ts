// kata-build kernel: a guest kernel for kvm or mshv (the library's kernel()).
import { kernel, kernelOptions } from "../api/kernel.js";
import { defineCommand } from "./command.js";

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

export const kernelCommand = defineCommand({
  name: "kernel",
  summary: "build a guest kernel (vmlinux with PVH + bzImage) for kvm or mshv",
  usage:
    "kata-build kernel --source TARBALL|DIR|VERSION [--hypervisor kvm|mshv] [--arch x86_64] [--feature NAME ...] [--out DIR]",
  description: [
    "Merges rootfs/kernel/fragments (common/, <arch>/, <hypervisor>/, then each --feature and --fragment,",
    "later files winning) onto allnoconfig, runs make olddefconfig, and fails unless every requested",
    "option survived, naming the dependency that dropped each one (rootfs/kernel/whitelist.conf lists",
    "accepted drops). Then builds vmlinux (checked for its PVH entry note) and bzImage, with no modules.",
    "",
    "--source takes a kernel tarball (e.g. /usr/src/linux-source-6.1.tar.xz), an unpacked clean tree, or",
    "a version pinned with its sha256 in rootfs/kernel/versions.conf, which is downloaded and checked.",
    "Kernels are cached by source hash + merged-config hash; an unchanged kernel is not rebuilt.",
    "Features: iptables, ip6tables, tun, cifs, erofs, hyperv, confidential, security, performance (rootfs/kernel/fragments/features).",
  ].join("\n"),
  options: kernelOptions,
  configurable: true,
  run: (values, _positionals, { hooks }) => kernel(values, hooks),
  text(result) {
    const m = result.manifest;
    if (result.configOnly) {
      return (
        `config for Linux ${m.version} (${m.hypervisor}, ${m.arch}): ${Object.keys(m.requested).length} options verified, ` +
        `${m.acceptedDrops.length} whitelisted drops\n  config    ${result.config}\n  manifest  ${result.manifestPath}\n`
      );
    }
    const sizes = Object.fromEntries(m.artifacts.map((a) => [a.name, a.bytes]));
    return [
      `kernel ${m.release ?? m.version} (${m.hypervisor}, ${m.arch}): ${result.cached ? "cached" : "built"}` +
        (m.build ? ` (cold build ${m.build.seconds}s with -j${m.build.jobs})` : ""),
      `  vmlinux   ${result.vmlinux}  ${mb(sizes.vmlinux ?? 0)}${m.pvhEntry ? `  PVH entry ${m.pvhEntry}` : ""}`,
      `  bzImage   ${result.bzImage}  ${mb(sizes.bzImage ?? 0)}`,
      `  config    ${result.config}`,
      `  manifest  ${result.manifestPath}`,
      ...(result.boot
        ? [`  boot      marker after ${result.boot.markerSeconds.toFixed(2)}s under QEMU TCG`]
        : []),
      "",
    ].join("\n");
  },
});
