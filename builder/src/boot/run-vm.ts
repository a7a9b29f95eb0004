// kata-build vm, as a library: boot a kernel with a root (our guest or anyone's) on the boot
// check's machine and keep it running, saying where the agent answers: a Unix socket on the
// host carrying a virtio-serial port (and, in our guests, a second one the in-guest bridge
// relays to the agent's vsock listener), the 9p share, the console log. It runs until the guest
// powers off, the kernel panics, QEMU fails, or the caller stops it.
import { mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { InitMode } from "../distro/types.js";
import { ConsoleWatch } from "./console.js";
import { bootCmdline, vmRoot } from "./index.js";
import type { BootRoot, Profile } from "./profiles.js";
import { SHARE_TAG, startVm } from "./vm.js";

export interface RunVmOptions {
  kernel: string;
  root: BootRoot;
  /** Our guest's init mode (it has the bridge); undefined for a guest built elsewhere. */
  init?: InitMode;
  profile: Profile;
  /** The whole kernel command line instead of the profile's and the harness's. */
  cmdline?: string;
  /** Extra kernel parameters after the profile's and the harness's. */
  append?: string;
  /** Sockets, the console log and the default share go here. */
  dir: string;
  /** Host directory shared over 9p (default: DIR/shared). */
  share?: string;
  memoryMiB: number;
  cpus: number;
  agentLogLevel: string;
  /** A blank disk of this size for the guest, at a known PCI path. */
  scratchDiskMiB?: number;
}

export interface VmAddresses {
  /** The agent's ttrpc server on the virtio-serial port, as a kata-agent-ctl / client address. */
  agent: string;
  /** The agent's vsock listener through the in-guest bridge (our guests only). */
  vsockBridge?: string;
  /** The agent's debug console (agent.debug_console_addr): `kata-agent-ctl console` it. */
  debugConsole: string;
  /** The blank disk: its file on the host and the PCI path to give the agent. */
  scratchDisk?: { path: string; pciPath: string };
  /** The host directory the guest can mount over 9p, and its tag. */
  shared: string;
  shareTag: string;
  consoleLog: string;
  dir: string;
  pid?: number;
  cmdline: string;
}

export type VmExit =
  | { reason: "poweroff" }
  | { reason: "panic"; line: string; consoleTail: string }
  | { reason: "qemu-failed"; exitCode: number | undefined; stderr: string; consoleTail: string };

export interface RunningVm {
  addresses: VmAddresses;
  /** Resolves when the agent logs that it is ready (our agent's "agent ready" line). */
  agentReady: Promise<{ seconds: number; startupMs?: number }>;
  /** Settles when QEMU has exited, saying why. */
  exited: Promise<VmExit>;
  /** Stops QEMU (SIGTERM, then SIGKILL) and waits for it. */
  stop(): Promise<void>;
}

export async function runVm(options: RunVmOptions): Promise<RunningVm> {
  const shared = options.share ?? path.join(options.dir, "shared");
  mkdirSync(shared, { recursive: true });
  const cmdline =
    options.cmdline ??
    bootCmdline({
      profile: options.profile,
      root: options.root,
      init: options.init,
      // Only our guests have the bridge that needs vsock loopback; others boot the agent as deployed.
      vsockLoopback: options.init !== undefined,
      cpus: options.cpus,
      agentLogLevel: options.agentLogLevel,
      ...(options.append ? { append: options.append } : {}),
    });
  const vm = await startVm({
    kernel: options.kernel,
    root: vmRoot(options.profile, options.root),
    cmdline,
    consoleDevice: options.profile.console,
    dir: options.dir,
    shared,
    memoryMiB: options.memoryMiB,
    cpus: options.cpus,
    ...(options.scratchDiskMiB ? { scratchDiskMiB: options.scratchDiskMiB } : {}),
  });
  let onReady: (ready: { seconds: number; startupMs?: number }) => void = () => {};
  const agentReady = new Promise<{ seconds: number; startupMs?: number }>((resolve) => {
    onReady = resolve;
  });
  const console = new ConsoleWatch(vm.consoleLog, (line) => {
    if (!line.includes('"msg":"agent ready"')) return;
    // The watch has read the start-up figure from this same line before calling back.
    const startupMs = console.agentStartupMs;
    onReady({
      seconds: (performance.now() - vm.startedAt) / 1000,
      ...(startupMs !== undefined ? { startupMs } : {}),
    });
  });
  const exited = vm.process.then(async (result): Promise<VmExit> => {
    // A last read of the console, so that a panic printed just before the exit is seen.
    await new Promise((r) => setTimeout(r, 100));
    console.stop();
    const consoleTail = console.tail(30);
    if (console.panic) return { reason: "panic", line: console.panic, consoleTail };
    if (result.exitCode === 0 && !result.isTerminated) return { reason: "poweroff" };
    const stderr = await readFile(path.join(options.dir, "qemu.err"), "utf8").catch(() => "");
    return { reason: "qemu-failed", exitCode: result.exitCode, stderr: stderr.trim(), consoleTail };
  });
  return {
    addresses: {
      agent: `unix://${vm.agentSocket}`,
      ...(options.init ? { vsockBridge: `unix://${vm.vsockBridgeSocket}` } : {}),
      debugConsole: `unix://${vm.consoleSocket}`,
      ...(vm.scratchDisk ? { scratchDisk: vm.scratchDisk } : {}),
      shared,
      shareTag: SHARE_TAG,
      consoleLog: vm.consoleLog,
      dir: options.dir,
      ...(vm.pid !== undefined ? { pid: vm.pid } : {}),
      cmdline,
    },
    agentReady,
    exited,
    async stop() {
      vm.process.kill("SIGTERM");
      await exited;
    },
  };
}
