// agent.debug_console: a root shell for whoever debugs the guest, as upstream's agent offers it.
// With agent.debug_console_vport (the runtime passes 1026 for `kata-runtime exec`) each
// connection to that vsock port gets its own shell on its own pty, several at a time; this agent
// also serves it on agent.debug_console_addr (a virtio-serial port where the host has no
// vhost-vsock, one connection at a time; unix or tcp for tests on a host; vsock). With neither,
// one shell runs on /dev/console (the serial console) and, as upstream, is not started again
// once it exits. Connections from inside the VM over vsock loopback are refused like the
// API's, or a container could open a root shell on its own guest.
import { closeSync, constants, openSync } from "node:fs";
import type { Logger } from "../log.js";
import type { Reaper } from "../processes/reaper.js";
import { type Address, formatAddress, VMADDR_CID_ANY } from "../transport/address.js";
import { type Listener, listen } from "../transport/listen.js";
import { serveSession } from "./session.js";
import { findShell, SHELLS, startShell } from "./shell.js";

export const SERIAL_CONSOLE = "/dev/console";

export interface DebugConsoleOptions {
  enabled: boolean;
  /** agent.debug_console_vport; 0 for none. */
  vport: number;
  /** agent.debug_console_addr. */
  addresses: readonly Address[];
  allowVsockLoopback: boolean;
  reaper: Reaper;
  log: Logger;
  /** Shells to look for, in order (default /bin/bash, /bin/sh). */
  shells?: readonly string[];
  /** The terminal for the serial console (default /dev/console). */
  consolePath?: string;
}

export interface DebugConsole {
  /** Where it is served: listener addresses, or the console device. */
  readonly addresses: string[];
  close(): Promise<void>;
}

/** Starts the debug console if asked for; undefined when it is off or cannot start (logged). */
export async function startDebugConsole(options: DebugConsoleOptions): Promise<DebugConsole | undefined> {
  const log = options.log.child({ subsystem: "debug-console" });
  const wanted: Address[] = [
    ...(options.vport > 0 ? [{ scheme: "vsock" as const, cid: VMADDR_CID_ANY, port: options.vport }] : []),
    ...options.addresses,
  ];
  if (!options.enabled) {
    if (wanted.length) {
      log.warn("a debug console address is set but agent.debug_console is not: no debug console", {
        addresses: wanted.map(formatAddress),
      });
    }
    return undefined;
  }
  const shell = findShell(options.shells ?? SHELLS);
  if (!shell) {
    log.error("no shell for the debug console; install bash or sh in the guest", {
      looked: options.shells ?? SHELLS,
    });
    return undefined;
  }
  if (!wanted.length) return serveSerial(options.consolePath ?? SERIAL_CONSOLE, shell, options.reaper, log);

  const listeners: Listener[] = [];
  for (const address of wanted) {
    try {
      listeners.push(
        await listen(
          address,
          (socket, peer) => {
            void serveSession(socket, { shell, reaper: options.reaper, log: log.child({ peer }) });
          },
          {
            allowVsockLoopback: options.allowVsockLoopback,
            onWarning: (message, fields) => log.warn(message, fields),
          },
        ),
      );
    } catch (err) {
      log.error("cannot serve the debug console here", { address: formatAddress(address), error: err });
    }
  }
  if (!listeners.length) return undefined;
  const addresses = listeners.map((l) => l.address);
  log.warn("debug console enabled: a root shell is served to whoever connects", { addresses, shell });
  return {
    addresses,
    close: async () => {
      await Promise.all(listeners.map((l) => l.close()));
    },
  };
}

function serveSerial(path: string, shell: string, reaper: Reaper, log: Logger): DebugConsole | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_NOCTTY);
  } catch (err) {
    log.error("cannot open the console for the debug console", { path, error: err });
    return undefined;
  }
  let started: ReturnType<typeof startShell>;
  try {
    started = startShell(shell, fd, reaper);
  } catch (err) {
    log.error("cannot start the debug console shell", { path, shell, error: err });
    return undefined;
  } finally {
    closeSync(fd);
  }
  log.warn("debug console enabled: a root shell runs on the console", { path, shell, shellPid: started.pid });
  void started.exited.then((status) =>
    log.info("debug console shell exited; it is not started again", { path, status: status.status }),
  );
  return {
    addresses: [path],
    close: async () => {
      try {
        process.kill(-started.pid, "SIGHUP");
      } catch {
        // already gone
      }
    },
  };
}
