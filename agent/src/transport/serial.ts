// virtio-serial: for hosts without vhost-vsock, the runtime's end is a QEMU chardev socket and
// ours is a port the kernel names in /sys/class/virtio-ports/<vportNpM>/name (udev would make
// /dev/virtio-ports/<name>, but an agent-as-init guest has no udev). The port carries one
// connection at a time; ttrpc multiplexes calls over it. When the host side closes, we wait for
// it to come back and serve the next connection.
import { closeSync, constants, openSync, readdirSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { socketFromFd } from "../native/index.js";
import type { Listener, OnConnection } from "./listen.js";

const PORTS_DIR = "/sys/class/virtio-ports";
const POLL_MS = 50;

/** The /dev node of the virtio-serial port called `name`, if the kernel has it. */
export function findSerialPort(name: string, portsDir = PORTS_DIR): string | undefined {
  let entries: string[];
  try {
    entries = readdirSync(portsDir);
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    try {
      if (readFileSync(join(portsDir, entry, "name"), "utf8").trim() === name) return `/dev/${entry}`;
    } catch {
      // port without a name
    }
  }
  return undefined;
}

type HostState = { connected: false } | { connected: true; firstByte?: Buffer };

/**
 * With O_NONBLOCK, reading a virtio port returns 0 while the host end is closed and EAGAIN
 * while it is open but quiet, which is how we tell the two apart.
 */
function probeHost(fd: number): HostState {
  const byte = Buffer.alloc(1);
  try {
    const n = readSync(fd, byte, 0, 1, null);
    return n === 0 ? { connected: false } : { connected: true, firstByte: byte };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EAGAIN") return { connected: true };
    throw err;
  }
}

export async function listenSerial(
  name: string,
  address: string,
  onConnection: OnConnection,
  warn: (message: string, fields?: Record<string, unknown>) => void,
): Promise<Listener> {
  let closed = false;
  let current: { destroy(): void } | undefined;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      // Not unref()ed: like any listener, a waiting serial port keeps the process alive.
      setTimeout(resolve, ms);
    });

  const serve = async () => {
    let device: string | undefined;
    let waitedForPort = false;
    for (let connection = 1; !closed; ) {
      device ??= findSerialPort(name);
      if (!device) {
        if (!waitedForPort) warn("virtio-serial port not present yet; waiting", { port: name });
        waitedForPort = true;
        await sleep(POLL_MS * 4);
        continue;
      }
      let fd: number;
      try {
        fd = openSync(device, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOCTTY);
      } catch (err) {
        // EBUSY while the previous connection's fd is still closing.
        warn("cannot open virtio-serial port; retrying", { device, error: err });
        await sleep(POLL_MS * 4);
        continue;
      }
      let state: HostState;
      try {
        state = probeHost(fd);
      } catch (err) {
        closeSync(fd);
        warn("virtio-serial port read failed; retrying", { device, error: err });
        await sleep(POLL_MS * 4);
        continue;
      }
      if (!state.connected) {
        closeSync(fd);
        await sleep(POLL_MS);
        continue;
      }
      const socket = socketFromFd(fd);
      if (state.firstByte) socket.unshift(state.firstByte);
      current = socket;
      const done = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      onConnection(socket, `${name}#${connection++}`);
      await done;
      current = undefined;
    }
  };
  void serve();
  return {
    address,
    close: async () => {
      closed = true;
      wake?.();
      current?.destroy();
    },
  };
}
