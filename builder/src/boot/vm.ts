// The machine the boot check and `kata-build vm` run (tools/qemu-system.ts): the guest kernel
// booted directly, the agent reached over virtio-serial ports that are Unix sockets on the host
// (no vhost-vsock here), container root filesystems shared over virtio-9p, an entropy source.
// The root is an initrd, a virtio-blk disk, or an NVDIMM; the console an 8250 serial port or a
// virtio console, as the profile being booted asks (boot/profiles.ts).
import { stat, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { type QemuMachine, type RunningQemu, startQemu } from "../tools/qemu-system.js";
import type { VmRoot } from "./profiles.js";

// What the guest boots from lives with the other descriptions of a root (which start no QEMU).
export type { VmRoot } from "./profiles.js";

export interface VmOptions {
  kernel: string;
  root: VmRoot;
  cmdline: string;
  /** The console device the command line names (ttyS0 or hvc0). */
  consoleDevice: "serial" | "virtconsole";
  /** Working directory: sockets and the console log go here. */
  dir: string;
  /** Host directory shared with the guest as 9p tag "kataShared". */
  shared: string;
  memoryMiB: number;
  cpus: number;
  /** A blank disk of this size for the guest (e.g. for block volumes), at PCI path SCRATCH_PCI_PATH. */
  scratchDiskMiB?: number;
}

/**
 * The virtio-serial ports: the agent's own, the bridge to its vsock listener, and the agent's
 * debug console (agent.debug_console_addr).
 */
export const PORTS = {
  agent: "agent.channel.0",
  vsockBridge: "agent.vsock.0",
  console: "agent.console.0",
} as const;

/** Where the scratch disk sits on the root bus, and the PCI path the runtime would name it by. */
const SCRATCH_SLOT = 0x10;
export const SCRATCH_PCI_PATH = SCRATCH_SLOT.toString(16).padStart(2, "0");

/** The 9p tag the shared directory carries, the one the Kata runtime uses. */
export const SHARE_TAG = "kataShared";

export interface Vm {
  process: RunningQemu["process"];
  consoleLog: string;
  agentSocket: string;
  vsockBridgeSocket: string;
  consoleSocket: string;
  /** The scratch disk, when asked for: its file, and the PCI path to give the agent. */
  scratchDisk?: { path: string; pciPath: string };
  command: string[];
  startedAt: number;
  pid: number | undefined;
}

export async function vmMachine(options: VmOptions): Promise<QemuMachine> {
  const sock = (name: string) => path.join(options.dir, `${name}.sock`);
  const { root } = options;
  return {
    kernel: options.kernel,
    cmdline: options.cmdline,
    ...(root.kind === "initrd" ? { initrd: root.path } : {}),
    ...(root.kind === "disk" ? { disk: root.path } : {}),
    ...(root.kind === "nvdimm" ? { nvdimm: { path: root.path, bytes: (await stat(root.path)).size } } : {}),
    memoryMiB: options.memoryMiB,
    cpus: options.cpus,
    console: { file: path.join(options.dir, "console.log") },
    consoleDevice: options.consoleDevice,
    ...(options.scratchDiskMiB
      ? { scratchDisk: { path: scratchPath(options.dir), slot: SCRATCH_SLOT } }
      : {}),
    serialPorts: [
      { id: "agent", name: PORTS.agent, socket: sock("agent") },
      { id: "bridge", name: PORTS.vsockBridge, socket: sock("vsock-bridge") },
      { id: "console", name: PORTS.console, socket: sock("console") },
    ],
    share: { path: options.shared, tag: SHARE_TAG },
    rng: true,
  };
}

const scratchPath = (dir: string) => path.join(dir, "scratch.img");

export async function startVm(options: VmOptions): Promise<Vm> {
  if (options.scratchDiskMiB) {
    // Sparse: only what the guest writes takes space.
    await writeFile(scratchPath(options.dir), "");
    await truncate(scratchPath(options.dir), options.scratchDiskMiB * 1048576);
  }
  const qemu = startQemu(await vmMachine(options), {
    stdout: path.join(options.dir, "qemu.out"),
    stderr: path.join(options.dir, "qemu.err"),
  });
  return {
    process: qemu.process,
    consoleLog: path.join(options.dir, "console.log"),
    agentSocket: path.join(options.dir, "agent.sock"),
    vsockBridgeSocket: path.join(options.dir, "vsock-bridge.sock"),
    consoleSocket: path.join(options.dir, "console.sock"),
    ...(options.scratchDiskMiB
      ? { scratchDisk: { path: scratchPath(options.dir), pciPath: SCRATCH_PCI_PATH } }
      : {}),
    command: qemu.command,
    startedAt: qemu.startedAt,
    pid: qemu.process.pid,
  };
}
