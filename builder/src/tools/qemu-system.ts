// qemu-system-x86_64: the one QEMU machine kata-build boots, q35 under TCG (KVM is unusable on
// the CI machine), with the kernel booted directly. The boot check adds virtio-serial ports
// (Unix sockets on the host), a 9p share and a disk (virtio-blk, or an NVDIMM the way the Kata
// runtime attaches its image to QEMU); the kernel smoke boot only an initrd.
// Two ways to run it: started and left running (the boot check talks to the agent), or run
// until it exits while the console is watched for a marker line (the smoke boot times it).
import { performance } from "node:perf_hooks";
import { execa, type ResultPromise } from "execa";
import { requireTool } from "../util/host-tools.js";
import type { ToolResult } from "./run.js";

export interface QemuMachine {
  /** bzImage, or vmlinux (booted through its PVH entry). */
  kernel: string;
  cmdline: string;
  initrd?: string;
  /** A raw disk image, attached read-only as virtio-blk. */
  disk?: string;
  /**
   * A raw disk image attached read-only as an NVDIMM, as the Kata runtime attaches its image to
   * QEMU: `nvdimm=on` on the machine, memory hotplug slots, a file memory backend over the image.
   */
  nvdimm?: { path: string; bytes: number };
  /**
   * A blank raw disk for the guest to use (virtio-blk, read-write) at a fixed PCI slot on the
   * root bus, so that the runtime-style PCI path naming it is known ahead ("10" for 0x10).
   */
  scratchDisk?: { path: string; slot: number };
  memoryMiB: number;
  cpus: number;
  /** Where the console goes: a file, or QEMU's standard output. */
  console: { file: string } | "stdout";
  /**
   * The console device: the 8250 serial port (ttyS0, the default), or a virtio console (hvc0)
   * on its own virtio-serial controller, as the Kata runtime gives QEMU guests (and Cloud
   * Hypervisor confidential guests).
   */
  consoleDevice?: "serial" | "virtconsole";
  /** virtio-serial ports, each a Unix socket QEMU listens on. */
  serialPorts?: readonly { id: string; name: string; socket: string }[];
  /** A host directory shared over virtio-9p. */
  share?: { path: string; tag: string };
  /** A virtio-rng device (the guest's entropy). */
  rng?: boolean;
}

const QEMU = "qemu-system-x86_64";

/** Memory hotplug slots the runtime gives a QEMU guest (its default memory_slots). */
export const MEMORY_SLOTS = 10;

export function qemuArgs(m: QemuMachine): string[] {
  const chardev = m.console === "stdout" ? "stdio" : `file,path=${m.console.file}`;
  const virtconsole = m.consoleDevice === "virtconsole";
  return [
    ...["-machine", m.nvdimm ? "q35,nvdimm=on" : "q35", "-accel", "tcg", "-cpu", "max"],
    ...["-smp", String(m.cpus), "-m", memoryArg(m)],
    ...["-nographic", "-nodefaults", "-no-reboot", "-no-user-config"],
    ...(virtconsole
      ? [
          ...["-device", "virtio-serial-pci,id=serial0,max_ports=2"],
          ...["-device", "virtconsole,chardev=charconsole0,id=console0"],
          ...["-chardev", `${chardev},id=charconsole0`],
        ]
      : ["-serial", m.console === "stdout" ? "stdio" : `file:${m.console.file}`]),
    ...["-kernel", m.kernel, "-append", m.cmdline],
    ...(m.initrd ? ["-initrd", m.initrd] : []),
    ...(m.nvdimm
      ? [
          // Read-only backend and an unarmed NVDIMM: the guest cannot write the image.
          ...["-device", "nvdimm,id=nv0,memdev=mem0,unarmed=on"],
          ...[
            "-object",
            `memory-backend-file,id=mem0,mem-path=${m.nvdimm.path},size=${m.nvdimm.bytes},readonly=on`,
          ],
        ]
      : []),
    ...(m.disk
      ? [
          ...["-drive", `file=${m.disk},if=none,id=root,format=raw,readonly=on`],
          ...["-device", "virtio-blk-pci,drive=root"],
        ]
      : []),
    ...(m.scratchDisk
      ? [
          ...["-drive", `file=${m.scratchDisk.path},if=none,id=scratch,format=raw`],
          ...["-device", `virtio-blk-pci,drive=scratch,addr=0x${m.scratchDisk.slot.toString(16)}`],
        ]
      : []),
    ...(m.serialPorts?.length ? ["-device", "virtio-serial-pci,id=ports0"] : []),
    ...(m.serialPorts ?? []).flatMap((p) => [
      ...["-chardev", `socket,id=${p.id},path=${p.socket},server=on,wait=off`],
      ...["-device", `virtserialport,bus=ports0.0,chardev=${p.id},name=${p.name}`],
    ]),
    ...(m.share
      ? [
          ...["-fsdev", `local,id=shared,path=${m.share.path},security_model=none,multidevs=remap`],
          ...["-device", `virtio-9p-pci,fsdev=shared,mount_tag=${m.share.tag}`],
        ]
      : []),
    ...(m.rng ? ["-device", "virtio-rng-pci"] : []),
    ...["-nic", "none"],
  ];
}

/**
 * `-m`: with an NVDIMM, memory hotplug slots as the runtime gives them, and a maximum that leaves
 * room for the NVDIMM's range above the guest's RAM and 1 GiB to hot-add (the runtime sets the
 * host's memory size there, which only has to be at least as large).
 */
function memoryArg(m: QemuMachine): string {
  if (!m.nvdimm) return String(m.memoryMiB);
  const maxMiB = m.memoryMiB + Math.ceil(m.nvdimm.bytes / 1048576) + 1024;
  return `${m.memoryMiB}M,slots=${MEMORY_SLOTS},maxmem=${maxMiB}M`;
}

export interface RunningQemu {
  /** Settles when QEMU exits (never rejects). */
  process: ResultPromise;
  command: string[];
  /** performance.now() when QEMU was spawned. */
  startedAt: number;
}

/** Starts the machine; QEMU's own stdout and stderr go to the given files. */
export function startQemu(machine: QemuMachine, output: { stdout: string; stderr: string }): RunningQemu {
  const qemu = requireTool(QEMU, "boot the guest");
  const args = qemuArgs(machine);
  const startedAt = performance.now();
  const child = execa(qemu, args, {
    reject: false,
    stdin: "ignore",
    stdout: { file: output.stdout },
    stderr: { file: output.stderr },
    cleanup: true,
    forceKillAfterDelay: 2000,
  });
  return { process: child, command: [qemu, ...args], startedAt };
}

export interface MarkerBootOptions {
  /** Text whose first appearance on the console is timed. */
  marker: string;
  /** Milliseconds before QEMU is killed. */
  timeout: number;
  cancelSignal?: AbortSignal;
}

export interface MarkerBootResult
  extends Pick<ToolResult, "command" | "exitCode" | "timedOut" | "isCanceled"> {
  /** Seconds from spawning QEMU to the marker, or undefined if it never appeared. */
  markerSeconds?: number;
  /** Seconds until QEMU exited. */
  seconds: number;
  /** Everything the guest printed on the serial console. */
  output: string;
}

/** Runs a machine whose console is QEMU's stdout until it exits, timing the marker. */
export async function bootUntilMarker(
  machine: QemuMachine & { console: "stdout" },
  options: MarkerBootOptions,
): Promise<MarkerBootResult> {
  const qemu = requireTool(QEMU, "boot the kernel");
  const args = qemuArgs(machine);
  const started = performance.now();
  let markerSeconds: number | undefined;
  let seen = "";
  const subprocess = execa(qemu, args, {
    reject: false,
    stdin: "ignore",
    timeout: options.timeout,
    cancelSignal: options.cancelSignal,
    cleanup: true,
    forceKillAfterDelay: 2000,
    all: true,
  });
  subprocess.all?.on("data", (chunk: Buffer) => {
    if (markerSeconds !== undefined) return;
    seen = (seen + chunk.toString("latin1")).slice(-4096);
    if (seen.includes(options.marker)) markerSeconds = (performance.now() - started) / 1000;
  });
  const result = await subprocess;
  return {
    command: [QEMU, ...args].join(" "),
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    isCanceled: result.isCanceled,
    ...(markerSeconds !== undefined ? { markerSeconds } : {}),
    seconds: (performance.now() - started) / 1000,
    output: typeof result.all === "string" ? result.all : "",
  };
}
