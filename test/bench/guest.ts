// Guest kernel and boot figures: the kvm guest kernel (cold build time, sizes, TCG boot to a busybox
// /init) and the boot check (QEMU start to agent ready, against that same kernel booting
// busybox in the same run: the agent's share of boot).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { bootRoot, ensureGuest } from "../../builder/src/boot/guest.js";
import { bootCheck } from "../../builder/src/boot/index.js";
import { kernelBench } from "../../builder/src/boot/kernel-bench.js";
import { smokeBoot } from "../../builder/src/boot/smoke.js";
import { ensureKernel } from "../../builder/src/pipelines/kernel.js";
import { dataDir, defaultAgentDir, defaultCacheDir } from "../../builder/src/util/paths.js";
import { Progress } from "../../builder/src/util/progress.js";
import { median } from "./procs.js";
import type { Section } from "./report.js";

const progress = new Progress({ quiet: true });
const mb = (bytes: number) => bytes / 1e6;

export async function benchKernel(): Promise<Section> {
  const k = await kernelBench({ progress });
  return {
    title: `Guest kernel (kvm, ${k.release}, ${k.jobs || 2} make jobs)`,
    figures: [
      {
        name: "cold build (make vmlinux bzImage)",
        unit: "min",
        ours: k.buildSeconds / 60,
        goal: { of: "ours", max: 15 },
        note: `${k.buildCpuSeconds ? `${Math.round(k.buildCpuSeconds)} CPU seconds; ` : ""}measured when the kernel was built${k.cached ? " (cached since)" : ""}`,
      },
      { name: "bzImage", unit: "MB", ours: mb(k.bzImageBytes), goal: { of: "ours", max: 8 } },
      { name: "vmlinux (ELF, PVH entry)", unit: "MB", ours: mb(k.vmlinuxBytes) },
      { name: "TCG boot to a busybox /init marker", unit: "s", ours: k.bootToMarkerSeconds },
    ],
  };
}

/** The guests booted: Debian's own node 18, and this machine's Node.js (kata-build --node host). */
const NODES = [
  { label: "Debian's node 18", node: undefined },
  { label: `this machine's node ${process.version}`, node: process.execPath },
] as const;
const FORMS = ["image", "initrd"] as const;

export async function benchBoot(runs: number): Promise<Section> {
  const cacheDir = defaultCacheDir();
  const kernel = await ensureKernel({
    hypervisor: "kvm",
    arch: "x86_64",
    source: "/usr/src/linux-source-6.1.tar.xz",
    cacheDir,
    progress,
  });
  const work = mkdtempSync(path.join(tmpdir(), "bench-boot-"));
  const busybox: number[] = [];
  const rows: { label: string; form: string; ready: number; startup: number; toExit: number }[] = [];
  try {
    for (const { label, node } of NODES) {
      const guest = await ensureGuest({
        distro: "debian",
        ...(node ? { node } : {}),
        agentDir: defaultAgentDir(),
        dataDir: dataDir(),
        cacheDir,
        progress,
      });
      for (const form of FORMS) {
        const ready: number[] = [];
        const startup: number[] = [];
        const toExit: number[] = [];
        for (let i = 0; i < runs; i++) {
          const report = await bootCheck({
            root: await bootRoot(guest, form),
            init: guest.init,
            kernel: kernel.bzImage,
            workDir: path.join(work, `${rows.length}-${i}`),
            progress,
            print: () => {},
          });
          ready.push((report.qemuToKernelMs + report.kernelToAgentMs) / 1000);
          toExit.push(report.agentToContainerExitMs / 1000);
          if (report.agentStartupMs !== undefined) startup.push(report.agentStartupMs / 1000);
          if (busybox.length < runs)
            busybox.push((await smokeBoot({ kernel: kernel.bzImage, progress })).markerSeconds);
        }
        rows.push({ label, form, ready: median(ready), startup: median(startup), toExit: median(toExit) });
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const base = median(busybox);
  return {
    title: `Boot under QEMU TCG (our kvm kernel, Debian agent-as-init guest; median of ${runs})`,
    figures: rows.flatMap((r) => [
      {
        name: `${r.form}, ${r.label}: QEMU start to agent ready`,
        unit: "s",
        ours: r.ready,
        reference: { name: "same kernel to a busybox /init", value: base },
      },
      {
        name: `${r.form}, ${r.label}: the agent's share of boot (difference)`,
        unit: "s",
        ours: r.ready - base,
        goal: { of: "ours", max: 1.5 },
        note: `the agent's own start-up (node's clock) ${r.startup.toFixed(2)} s${r.form === "initrd" ? "; the rest is mostly the kernel unpacking the initramfs" : ""}`,
      },
      { name: `${r.form}, ${r.label}: agent ready to first container exit`, unit: "s", ours: r.toExit },
    ]),
  };
}
