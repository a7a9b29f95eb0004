// The QEMU machine the boot check runs: q35 under TCG (KVM hangs on this kind of host), the
// guest kernel booted directly, the agent reached over virtio-serial ports that are Unix
// sockets on the host (no vhost-vsock here), container root filesystems shared over virtio-9p.
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import { requireTool } from "../util/host-tools.js";

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
  process: ResultPromise;
  consoleLog: string;
  agentSocket: string;
  vsockBridgeSocket: string;
  command: string[];
  startedAt: number;
}

export function qemuArgs(options: VmOptions): string[] {
  const sock = (name: string) => path.join(options.dir, `${name}.sock`);
  const args = [
    ...["-machine", "q35", "-accel", "tcg", "-cpu", "max"],
    ...["-smp", String(options.cpus), "-m", String(options.memoryMiB)],
    ...["-nographic", "-nodefaults", "-no-reboot", "-no-user-config"],
    ...["-serial", `file:${path.join(options.dir, "console.log")}`],
    ...["-kernel", options.kernel, "-append", options.cmdline],
    ...(options.initrd ? ["-initrd", options.initrd] : []),
    ...(options.image
      ? [
          ...["-drive", `file=${options.image},if=none,id=root,format=raw,readonly=on`],
          ...["-device", "virtio-blk-pci,drive=root"],
        ]
      : []),
    ...["-device", "virtio-serial-pci,id=serial0"],
    ...["-chardev", `socket,id=agent,path=${sock("agent")},server=on,wait=off`],
    ...["-device", `virtserialport,chardev=agent,name=${PORTS.agent}`],
    ...["-chardev", `socket,id=bridge,path=${sock("vsock-bridge")},server=on,wait=off`],
    ...["-device", `virtserialport,chardev=bridge,name=${PORTS.vsockBridge}`],
    ...["-fsdev", `local,id=shared,path=${options.shared},security_model=none,multidevs=remap`],
    ...["-device", "virtio-9p-pci,fsdev=shared,mount_tag=kataShared"],
    ...["-device", "virtio-rng-pci"],
    ...["-nic", "none"],
  ];
  return args;
}

export function startVm(options: VmOptions): Vm {
  const qemu = requireTool("qemu-system-x86_64", "boot the guest");
  const args = qemuArgs(options);
  const startedAt = performance.now();
  const child = execa(qemu, args, {
    reject: false,
    stdin: "ignore",
    stdout: { file: path.join(options.dir, "qemu.out") },
    stderr: { file: path.join(options.dir, "qemu.err") },
    cleanup: true,
    forceKillAfterDelay: 2000,
  });
  return {
    process: child,
    consoleLog: path.join(options.dir, "console.log"),
    agentSocket: path.join(options.dir, "agent.sock"),
    vsockBridgeSocket: path.join(options.dir, "vsock-bridge.sock"),
    command: [qemu, ...args],
    startedAt,
  };
}
