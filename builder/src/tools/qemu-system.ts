// qemu-system-x86_64: the one QEMU machine kata-build boots, q35 under TCG (KVM is unusable on
// the CI machine), with the kernel booted directly. The boot check adds virtio-serial ports
// (Unix sockets on the host), a 9p share and a disk; the kernel smoke boot only an initrd.
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
  memoryMiB: number;
  cpus: number;
  /** Where the serial console goes: a file, or QEMU's standard output. */
  console: { file: string } | "stdout";
  /** virtio-serial ports, each a Unix socket QEMU listens on. */
  serialPorts?: readonly { id: string; name: string; socket: string }[];
  /** A host directory shared over virtio-9p. */
  share?: { path: string; tag: string };
  /** A virtio-rng device (the guest's entropy). */
  rng?: boolean;
}

const QEMU = "qemu-system-x86_64";

export function qemuArgs(m: QemuMachine): string[] {
  return [
    ...["-machine", "q35", "-accel", "tcg", "-cpu", "max"],
    ...["-smp", String(m.cpus), "-m", String(m.memoryMiB)],
    ...["-nographic", "-nodefaults", "-no-reboot", "-no-user-config"],
    ...["-serial", m.console === "stdout" ? "stdio" : `file:${m.console.file}`],
    ...["-kernel", m.kernel, "-append", m.cmdline],
    ...(m.initrd ? ["-initrd", m.initrd] : []),
    ...(m.disk
      ? [
          ...["-drive", `file=${m.disk},if=none,id=root,format=raw,readonly=on`],
          ...["-device", "virtio-blk-pci,drive=root"],
        ]
      : []),
    ...(m.serialPorts?.length ? ["-device", "virtio-serial-pci,id=serial0"] : []),
    ...(m.serialPorts ?? []).flatMap((p) => [
      ...["-chardev", `socket,id=${p.id},path=${p.socket},server=on,wait=off`],
      ...["-device", `virtserialport,chardev=${p.id},name=${p.name}`],
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
