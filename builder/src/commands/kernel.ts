// kata-build kernel: a guest kernel for kvm or mshv from the fragments in rootfs/kernel,
// verified option by option, built once and cached.
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { smokeBoot } from "../boot/smoke.js";
import { ARCHES, type Arch, HYPERVISORS, type Hypervisor, type KernelRequest } from "../kernel/request.js";
import { configureOnly, ensureKernel, exportKernel } from "../pipelines/kernel.js";
import { BuildError } from "../util/errors.js";
import { defineCommand } from "./command.js";
import { cacheDirOf, cacheOption, outOption, quietOption } from "./shared-options.js";

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
  options: {
    source: { kind: "string", arg: "TARBALL|DIR|VERSION", help: "kernel source (required)" },
    hypervisor: {
      kind: "string",
      arg: "NAME",
      choices: HYPERVISORS,
      default: "kvm",
      help: "hypervisor fragments",
    },
    arch: { kind: "string", arg: "ARCH", choices: ARCHES, default: "x86_64", help: "architecture" },
    feature: { kind: "strings", arg: "NAME", help: "optional feature fragment (repeatable)" },
    fragment: { kind: "strings", arg: "FILE", help: "extra fragment file applied last (repeatable)" },
    out: outOption("out/kernel"),
    jobs: {
      kind: "number",
      short: "j",
      arg: "N",
      default: availableParallelism(),
      help: "parallel make jobs",
    },
    cache: cacheOption,
    configOnly: {
      kind: "boolean",
      help: "merge, olddefconfig and verify only; write config + manifest.json",
    },
    smokeBoot: { kind: "boolean", help: "boot the bzImage under QEMU TCG with a busybox initrd and time it" },
    mirror: { kind: "string", arg: "URL", help: "kernel.org mirror for version downloads" },
    data: { kind: "string", arg: "DIR", help: "kernel data directory (default: rootfs/kernel)" },
    json: { kind: "boolean", help: "print the result as JSON on stdout" },
    quiet: quietOption,
  },
  async run(values, _positionals, progress) {
    if (!values.source) {
      throw new BuildError(
        "--source is required",
        "pass a tarball, an unpacked kernel tree or a pinned version",
      );
    }
    const request: KernelRequest = {
      hypervisor: values.hypervisor as Hypervisor,
      arch: values.arch as Arch,
      source: values.source,
      features: values.feature ?? [],
      extraFragments: values.fragment ?? [],
      cacheDir: cacheDirOf(values.cache),
      jobs: values.jobs,
      progress,
      ...(values.mirror ? { mirror: values.mirror } : {}),
      ...(values.data ? { dataDir: resolve(values.data) } : {}),
    };
    const out = resolve(values.out);
    if (values.configOnly) {
      const result = await configureOnly(request, out);
      const m = result.manifest;
      if (values.json) process.stdout.write(`${JSON.stringify({ ...result }, null, 2)}\n`);
      else {
        process.stdout.write(
          `config for Linux ${m.version} (${m.hypervisor}, ${m.arch}): ${Object.keys(m.requested).length} options verified, ` +
            `${m.acceptedDrops.length} whitelisted drops\n  config    ${result.config}\n  manifest  ${result.manifestPath}\n`,
        );
      }
      return;
    }
    const built = await ensureKernel(request);
    const exported = await progress.step(`Copying the kernel to ${out}`, () =>
      exportKernel(built, out, progress),
    );
    const m = exported.manifest;
    const sizes = Object.fromEntries(m.artifacts.map((a) => [a.name, a.bytes]));
    const boot = values.smokeBoot ? await smokeBoot({ kernel: exported.bzImage, progress }) : undefined;
    if (values.json) {
      // `summary` has the figures the bench reports (kernelBench() returns the same fields).
      const summary = {
        buildSeconds: m.build?.seconds,
        buildCpuSeconds: m.build?.cpuSeconds,
        vmlinuxBytes: sizes.vmlinux,
        bzImageBytes: sizes.bzImage,
        bootToMarkerSeconds: boot ? Math.round(boot.markerSeconds * 100) / 100 : undefined,
        cached: built.cached,
      };
      const { output: _console, ...bootResult } = boot ?? { output: "" };
      process.stdout.write(
        `${JSON.stringify({ summary, ...exported, boot: boot ? bootResult : undefined }, null, 2)}\n`,
      );
      return;
    }
    process.stdout.write(
      [
        `kernel ${m.release ?? m.version} (${m.hypervisor}, ${m.arch}): ${built.cached ? "cached" : "built"}` +
          (m.build ? ` (cold build ${m.build.seconds}s with -j${m.build.jobs})` : ""),
        `  vmlinux   ${exported.vmlinux}  ${mb(sizes.vmlinux ?? 0)}${m.pvhEntry ? `  PVH entry ${m.pvhEntry}` : ""}`,
        `  bzImage   ${exported.bzImage}  ${mb(sizes.bzImage ?? 0)}`,
        `  config    ${exported.config}`,
        `  manifest  ${exported.manifestPath}`,
        ...(boot ? [`  boot      marker after ${boot.markerSeconds.toFixed(2)}s under QEMU TCG`] : []),
        "",
      ].join("\n"),
    );
  },
});
