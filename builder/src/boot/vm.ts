// The machine the boot check runs (tools/qemu-system.ts): the guest kernel booted directly,
// the agent reached over virtio-serial ports that are Unix sockets on the host (no vhost-vsock
// here), container root filesystems shared over virtio-9p, an entropy source.
import path from "node:path";
import { type QemuMachine, type RunningQemu, startQemu } from "../tools/qemu-system.js";

export interface VmOptions {
  kernel: string;
  /** Boot an initrd (agent as /init) ... */
  initrd?: string;
  /** ... or a disk image as virtio-blk root. */
  image?: string;
  cmdline: string;
  /** Working directory: sockets and the console log go here. */
  dir: string;
  /** Host directory shared with the guest as 9p tag "kataShared". */
  shared: string;
  memoryMiB: number;
  cpus: number;
}

/** The virtio-serial ports: the agent's own, and the bridge to its vsock listener. */
export const PORTS = { agent: "agent.channel.0", vsockBridge: "agent.vsock.0" } as const;

export interface Vm {
  process: RunningQemu["process"];
  consoleLog: string;
  agentSocket: string;
  vsockBridgeSocket: string;
  command: string[];
  startedAt: number;
}

export function vmMachine(options: VmOptions): QemuMachine {
  const sock = (name: string) => path.join(options.dir, `${name}.sock`);
  return {
    kernel: options.kernel,
    cmdline: options.cmdline,
    ...(options.initrd ? { initrd: options.initrd } : {}),
    ...(options.image ? { disk: options.image } : {}),
    memoryMiB: options.memoryMiB,
    cpus: options.cpus,
    console: { file: path.join(options.dir, "console.log") },
    serialPorts: [
      { id: "agent", name: PORTS.agent, socket: sock("agent") },
      { id: "bridge", name: PORTS.vsockBridge, socket: sock("vsock-bridge") },
    ],
    share: { path: options.shared, tag: "kataShared" },
    rng: true,
  };
}

export function startVm(options: VmOptions): Vm {
  const qemu = startQemu(vmMachine(options), {
    stdout: path.join(options.dir, "qemu.out"),
    stderr: path.join(options.dir, "qemu.err"),
  });
  return {
    process: qemu.process,
    consoleLog: path.join(options.dir, "console.log"),
    agentSocket: path.join(options.dir, "agent.sock"),
    vsockBridgeSocket: path.join(options.dir, "vsock-bridge.sock"),
    command: qemu.command,
    startedAt: qemu.startedAt,
  };
}
