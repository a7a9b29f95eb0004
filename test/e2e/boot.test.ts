// The main job end to end, in every form a guest is deployed: our kvm kernel and our Debian
// guest (the agent as init, and systemd starting it), booted under QEMU TCG as an initrd, as a
// dm-verity disk image with the command line the Kata runtime builds for Cloud Hypervisor, as a
// DAX image attached as an NVDIMM with the runtime's QEMU command line, and as an erofs image;
// the agent reached over virtio-serial and, through the in-guest bridge, over its real AF_VSOCK
// listener (vsock loopback); containers run like the Kata runtime runs them. In each, the debug
// console answers a command and a container fails to reach the agent over vsock loopback; in one,
// an encrypted ephemeral volume is LUKS2 on a blank disk. Kernel and guests come from the build
// cache when unchanged.
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentService, serviceClient } from "../../agent/src/client/index.js";
import { bootRoot, ensureGuest, type Guest, type ImageVariant } from "../../builder/src/boot/guest.js";
import { type BootForm, bootCheck } from "../../builder/src/boot/index.js";
import type { ProfileName } from "../../builder/src/boot/profiles.js";
import { smokeBoot } from "../../builder/src/boot/smoke.js";
import type { InitMode } from "../../builder/src/distro/types.js";
import { ensureKernel, type KernelArtifacts } from "../../builder/src/pipelines/kernel.js";
import { dataDir, defaultAgentDir, defaultCacheDir } from "../../builder/src/util/paths.js";
import { Progress } from "../../builder/src/util/progress.js";
import { ensureBuilderBundle } from "../helpers/builder-agent.js";
import { type EphemeralEncryptionResult, runEphemeralEncryptionCheck } from "../helpers/encrypted-volume.js";
import {
  buildVsockProbe,
  type LoopbackProbeResult,
  runLoopbackProbeInContainer,
} from "../helpers/vsock-probe.js";

const progress = new Progress({ write: (line) => process.stderr.write(`${line}\n`), heartbeatSeconds: 60 });
let kernel: KernelArtifacts;
const guests: Partial<Record<InitMode, Guest>> = {};
let work: string;
let probe: string;

beforeAll(async () => {
  const cacheDir = defaultCacheDir();
  kernel = await ensureKernel({
    hypervisor: "kvm",
    arch: "x86_64",
    source: "/usr/src/linux-source-6.1.tar.xz",
    cacheDir,
    progress,
  });
  for (const init of ["agent", "systemd"] as const) {
    guests[init] = await ensureGuest({
      distro: "debian",
      init,
      agentDir: defaultAgentDir(),
      dataDir: dataDir(),
      cacheDir,
      progress,
    });
  }
  work = mkdtempSync(path.join(tmpdir(), "e2e-boot-"));
  probe = buildVsockProbe(mkdtempSync(path.join(tmpdir(), "e2e-probe-")));
}, 40 * 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Form {
  name: string;
  form: BootForm;
  init: InitMode;
  profile: ProfileName;
  image?: ImageVariant;
  kernelImage: "bzImage" | "vmlinux";
  /** The guest's root as its mount table shows it. */
  root: { device: RegExp; fstype: string; options?: string[] };
  /** Also check an encrypted ephemeral volume (LUKS2 under a random key) on a blank disk. */
  encryptedVolume?: boolean;
  /**
   * Boot the agent refusing vsock loopback peers, as deployed (no bridge check then); otherwise
   * it allows them for the bridge, and the probe must get through (the probe's own control).
   */
  refuseLoopback?: boolean;
}

const FORMS: Form[] = [
  {
    name: "agent-as-init initrd, our command line",
    form: "initrd",
    init: "agent",
    profile: "ours",
    kernelImage: "bzImage",
    root: { device: /^rootfs$/, fstype: "rootfs" },
  },
  {
    name: "agent-as-init dm-verity image, the runtime's Cloud Hypervisor command line",
    form: "image",
    init: "agent",
    profile: "runtime-clh",
    image: { fs: "ext4", verity: true, dax: false },
    kernelImage: "vmlinux",
    root: { device: /^\/dev\/dm-0$/, fstype: "ext4", options: ["ro"] },
    encryptedVolume: true,
  },
  {
    name: "systemd DAX image as an NVDIMM, the runtime's QEMU command line",
    form: "image",
    init: "systemd",
    profile: "runtime-qemu-nvdimm",
    image: { fs: "ext4", verity: false, dax: true },
    kernelImage: "vmlinux",
    root: { device: /^\/dev\/pmem0p1$/, fstype: "ext4", options: ["ro", "dax=always"] },
    refuseLoopback: true,
  },
  {
    name: "agent-as-init erofs image (lz4hc, dm-verity), our command line",
    form: "image",
    init: "agent",
    profile: "ours",
    image: { fs: "erofs", verity: true, dax: false },
    kernelImage: "bzImage",
    root: { device: /^\/dev\/dm-0$/, fstype: "erofs", options: ["ro"] },
  },
];

describe.each(FORMS)("booting the $name", (f) => {
  it("runs containers through the agent over virtio-serial and vsock, then powers off", async () => {
    const guest = guests[f.init]!;
    let printed = "";
    let loopback: LoopbackProbeResult | undefined;
    let encrypted: EphemeralEncryptionResult | undefined;
    const report = await bootCheck({
      root: await bootRoot(guest, f.form, f.image),
      init: f.init,
      profile: f.profile,
      kernel: kernel[f.kernelImage],
      workDir: work,
      progress,
      timeoutSeconds: 300,
      print: (text) => {
        printed += text;
      },
      ...(f.encryptedVolume ? { scratchDiskMiB: 96 } : {}),
      ...(f.refuseLoopback ? { vsockLoopback: false } : {}),
      // With the pod still up: a container that tries the agent over vsock loopback, and (in one
      // form) a volume the agent must encrypt.
      beforeDestroy: async (client, extras) => {
        const agent = serviceClient(client, AgentService);
        copyFileSync(probe, path.join(extras.shared, "hello", "rootfs", "vsock-probe"));
        const rootPath = `${extras.guestShared}/hello/rootfs`;
        loopback = await runLoopbackProbeInContainer(agent, { rootPath, probe: "/vsock-probe" });
        if (f.encryptedVolume) {
          encrypted = await runEphemeralEncryptionCheck(agent, { rootPath, disk: extras.scratchDisk! });
        }
      },
    });
    const { scenario } = report;
    // The container ran in our guest kernel and saw the guest's OS release, as root.
    expect(scenario.exitCode).toBe(0);
    expect(scenario.output).toMatch(/^Linux kata-boot-check 6\.1\.\d+-kata .* x86_64/m);
    expect(scenario.output).toContain("ID=debian");
    expect(scenario.output).toContain("uid=0(root) gid=0(root)");
    expect(printed).toBe(scenario.output + scenario.execOutput);
    // The exec joined the long-running container and saw its processes.
    expect(scenario.execExitCode).toBe(0);
    expect(scenario.execOutput).toMatch(/^exec into kata-boot-check: pid \d+, \d+ processes visible/);
    // The guest really booted from what this form names.
    expect(scenario.guestRoot?.device).toMatch(f.root.device);
    expect(scenario.guestRoot?.fstype).toBe(f.root.fstype);
    for (const option of f.root.options ?? []) expect(scenario.guestRoot?.options).toContain(option);
    const console = readFileSync(report.consoleLog, "utf8");
    const ready = console.split("\n").find((l) => l.includes('"msg":"agent ready"'));
    expect(ready).toMatch(/"addresses":\["serial:\/\/agent\.channel\.0","vsock:\/\/-1:1024"\]/);
    // PID 1 is the agent itself, or systemd, which started it as a service.
    if (f.init === "agent") expect(ready).toContain('"pid":1,');
    else expect(ready).not.toContain('"pid":1,');
    if (f.profile === "ours" && f.form === "image") {
      // Root is the dm-verity device the kernel opened from dm-mod.create=, no initramfs.
      expect(console).toMatch(/Kernel command line: .*dm-mod\.create=.*root=\/dev\/dm-0/);
      expect(console).not.toContain("rdinit=");
    }
    if (f.profile !== "ours") expect(report.cmdline).toContain(" quiet ");
    // The debug console answered a command: the shell did the arithmetic in our guest kernel.
    expect(report.debugConsole.line).toMatch(/^kata-console 42 6\.1\.\d+-kata$/);
    if (f.refuseLoopback) {
      // As deployed, a container cannot reach the agent over vsock loopback: the agent drops it.
      expect(loopback?.outcome, loopback?.output).toMatch(/^(closed|error E[A-Z]+)$/);
      expect(console).toContain("refused a vsock connection from inside this VM");
    } else {
      // Loopback allowed for the bridge: then the same probe does get an answer, so the refusal
      // above is the agent's doing, not a probe that cannot connect.
      expect(loopback?.outcome, loopback?.output).toBe("answered");
      // The agent's vsock listener answered through the bridge (AF_VSOCK over vsock loopback).
      expect(report.vsockCheckMs).toBeGreaterThan(0);
      expect(console).toMatch(/bridge: agent\.vsock\.0#1 -> vsock:\/\/1:1024/);
    }
    if (f.encryptedVolume) {
      // encryption_key=ephemeral: LUKS2 on the disk, the data only through the dm-crypt mapping.
      expect(encrypted?.problems, encrypted?.output).toEqual([]);
      expect(encrypted?.luksHeader).toBe(true);
      expect(encrypted?.plaintextOnDisk).toBe(0);
    }
    // Each phase was timed.
    for (const ms of [report.kernelToAgentMs, report.agentToContainerExitMs]) {
      expect(ms).toBeGreaterThan(0);
    }
    expect(report.scenario.steps.map((s) => s.name)).toContain("DestroySandbox");
  }, 400_000);
});

describe("the same kernel booting busybox", () => {
  it("reaches a busybox /init (the baseline the agent's boot time is compared with)", async () => {
    const baseline = await smokeBoot({ kernel: kernel.bzImage, progress });
    expect(baseline.markerSeconds).toBeGreaterThan(0);
  });
});

describe("kata-build boot interrupted", () => {
  it("removes its work directory and stops QEMU on SIGTERM", async () => {
    const cli = ensureBuilderBundle();
    const tmp = mkdtempSync(path.join(tmpdir(), "boot-interrupt-"));
    const child = spawn("node", [cli, "boot", "--form", "initrd"], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, TMPDIR: tmp },
    });
    let log = "";
    await new Promise<void>((resolve, reject) => {
      child.stderr.on("data", (d: Buffer) => {
        log += d.toString();
        if (log.includes("==> Booting the agent-as-init initrd")) resolve();
      });
      child.on("close", (code) =>
        reject(new Error(`kata-build boot exited (${code}) before booting:\n${log}`)),
      );
    });
    const work = readdirSync(tmp).filter((n) => n.startsWith("kata-boot-"));
    expect(work).toHaveLength(1);
    child.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(143);
    // Named file by file, so a failure shows what a late writer left.
    const left = readdirSync(tmp).flatMap((n) => [
      n,
      ...readdirSync(path.join(tmp, n), { recursive: true }).map(String),
    ]);
    expect(left).toEqual([]);
    // No QEMU left running on that work directory.
    const qemus = readdirSync("/proc")
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(work[0]!);
        } catch {
          return false;
        }
      });
    expect(qemus).toEqual([]);
    rmSync(tmp, { recursive: true, force: true });
  }, 120_000);
});
