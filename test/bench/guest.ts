// Guest kernel and boot figures: the kvm guest kernel (cold build time, sizes, TCG boot to a busybox
// /init) and the boot check (QEMU start to agent ready, against that same kernel booting
// busybox in the same run: the agent's share of boot).
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import type { AgentStartup } from "../../builder/src/boot/console.js";
import { bootRoot, ensureGuest, type ImageVariant } from "../../builder/src/boot/guest.js";
import { type BootReport, bootCheck } from "../../builder/src/boot/index.js";
import { kernelBench } from "../../builder/src/boot/kernel-bench.js";
import { nodeBaseline } from "../../builder/src/boot/node-baseline.js";
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

/** How a guest is booted: its initrd, its dm-verity image, or the same tree's image without it. */
const FORMS: { name: string; form: "image" | "initrd"; variant?: ImageVariant }[] = [
  { name: "image", form: "image" },
  { name: "image without dm-verity", form: "image", variant: { fs: "ext4", verity: false, dax: false } },
  { name: "initrd", form: "initrd" },
];

interface BootRow {
  label: string;
  form: string;
  /** QEMU start -> agent ready (s). */
  ready: number;
  /** The agent's own start, node's clock (s). */
  startup: number;
  /** The same guest's first `node -e 0`, node's clock (s). */
  nodeCold: number;
  toExit: number;
  /** The median run's start-up detail. */
  detail: AgentStartup | undefined;
  /** RssAnon (MB) at the first call and after the container sequence. */
  rssFirst: number;
  rssAfter: number;
}

interface InitrdRow {
  label: string;
  /** Bytes of the initrd as shipped (zstd) and of the cpio inside it. */
  zstdBytes: number;
  cpioBytes: number;
  /** The kernel unpacking each (ms, median). */
  zstdUnpackMs: number;
  cpioUnpackMs: number;
}

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
  const rows: BootRow[] = [];
  const initrds: InitrdRow[] = [];
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
      const unpack = { zstd: [] as number[], cpio: [] as number[] };
      const cpio = path.join(work, `${rows.length}-initrd.cpio`);
      const initrd = await guest.initrd();
      await execa("zstd", ["-q", "-d", "-f", initrd, "-o", cpio]);
      for (const f of FORMS) {
        const root = await bootRoot(guest, f.form, f.variant);
        const reports: BootReport[] = [];
        const nodeCold: number[] = [];
        for (let i = 0; i < runs; i++) {
          reports.push(
            await bootCheck({
              root,
              init: guest.init,
              kernel: kernel.bzImage,
              workDir: path.join(work, `${rows.length}-${i}`),
              progress,
              print: () => {},
            }),
          );
          const baseline = await nodeBaseline({ root, kernel: kernel.bzImage });
          nodeCold.push(baseline.coldMs / 1000);
          if (f.form === "initrd") {
            if (baseline.initramfsUnpackMs !== undefined) unpack.zstd.push(baseline.initramfsUnpackMs);
            const plain = await nodeBaseline({
              root: { kind: "initrd", path: cpio },
              kernel: kernel.bzImage,
            });
            if (plain.initramfsUnpackMs !== undefined) unpack.cpio.push(plain.initramfsUnpackMs);
          }
          if (busybox.length < runs)
            busybox.push((await smokeBoot({ kernel: kernel.bzImage, progress })).markerSeconds);
        }
        const startups = reports.map((r) => (r.agentStartupMs ?? Number.NaN) / 1000);
        const order = startups.map((_, i) => i).sort((a, b) => startups[a]! - startups[b]!);
        const mid = reports[order[order.length >> 1]!];
        const mb = (kb: number | undefined) => (kb ?? Number.NaN) / 1024;
        rows.push({
          label,
          form: f.name,
          ready: median(reports.map((r) => (r.qemuToKernelMs + r.kernelToAgentMs) / 1000)),
          startup: median(startups),
          nodeCold: median(nodeCold),
          toExit: median(reports.map((r) => r.agentToContainerExitMs / 1000)),
          detail: mid?.agentStartup,
          rssFirst: median(reports.map((r) => mb(r.agentStartup?.rssAnonKb))),
          rssAfter: median(reports.map((r) => mb(r.scenario.agentRssAnonKb))),
        });
      }
      initrds.push({
        label,
        zstdBytes: statSync(initrd).size,
        cpioBytes: statSync(cpio).size,
        zstdUnpackMs: median(unpack.zstd),
        cpioUnpackMs: median(unpack.cpio),
      });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const base = median(busybox);
  return {
    title: `Boot under QEMU TCG (our kvm kernel ${kernelId(kernel.bzImage)}, Debian agent-as-init guest; median of ${runs})`,
    figures: [
      ...rows.flatMap((r) => [
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
          goal: { of: "ours" as const, max: 1.5 },
          ...(r.form === "initrd" ? { note: "includes the kernel unpacking the initramfs" } : {}),
        },
        {
          name: `${r.form}, ${r.label}: the agent's own start (node's clock)`,
          unit: "s",
          ours: r.startup,
          reference: { name: "node -e 0 in the same guest, first run", value: r.nodeCold },
          goal: { of: "ratio" as const, max: 1.3 },
          note: r.detail ? startupNote(r.detail) : "no agent ready line",
        },
        { name: `${r.form}, ${r.label}: agent ready to first container exit`, unit: "s", ours: r.toExit },
        {
          name: `${r.form}, ${r.label}: agent RssAnon after the container sequence`,
          unit: "MB",
          ours: r.rssAfter,
          reference: { name: "at its first answered call", value: r.rssFirst },
        },
      ]),
      ...initrds.flatMap((i) => [
        {
          name: `initrd, ${i.label}: size (zstd -9, as shipped)`,
          unit: "MB",
          ours: i.zstdBytes / 1e6,
          reference: { name: "the cpio inside it", value: i.cpioBytes / 1e6 },
        },
        {
          name: `initrd, ${i.label}: the kernel unpacking it`,
          unit: "s",
          ours: i.zstdUnpackMs / 1000,
          reference: { name: "the same cpio uncompressed", value: i.cpioUnpackMs / 1000 },
          note: "printk timestamps of 'Unpacking initramfs...' and 'Freeing initrd memory'",
        },
      ]),
    ],
  };
}

/** From its snapshot or bundle; its phases in ms (node's clock); when the first call was answered. */
function startupNote(a: AgentStartup): string {
  const phases = Object.entries(a.phasesMs)
    .map(([name, ms]) => `${name} ${Math.round(ms)}`)
    .join(", ");
  const load = a.loadMs
    ? ` (load: ${Object.entries(a.loadMs)
        .map(([chunk, ms]) => `${chunk} ${Math.round(ms)}`)
        .join(", ")})`
    : "";
  return `from its ${a.snapshot ? "start-up snapshot" : "bundle"}; phases (ms) ${phases}${load}${a.firstCallMs !== undefined ? `; first call answered at ${a.firstCallMs} ms` : ""}`;
}

/** The kernel's cache entry and the first 12 hex digits of its sha256. */
function kernelId(file: string): string {
  const digest = createHash("sha256").update(readFileSync(file)).digest("hex").slice(0, 12);
  return `${path.basename(path.dirname(file))}, bzImage sha256 ${digest}`;
}
