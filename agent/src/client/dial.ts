// Client-side connections to an agent: vsock, hybrid vsock (a VMM's Unix socket with the
// CONNECT handshake), Unix and TCP. Retries until the agent is up or the time runs out,
// as the runtime does while the guest boots.
import net from "node:net";
import type { Duplex } from "node:stream";
import { native, socketFromFd } from "../native/index.js";
import { type Address, formatAddress, unixSocketPath } from "../transport/address.js";

export interface DialOptions {
  /** Give up after this long (ms). Default 3000 (agent-ctl tries 300 times, 10 ms apart). */
  timeoutMs?: number;
  /** Pause between attempts (ms). */
  retryMs?: number;
  signal?: AbortSignal;
}

export class DialError extends Error {
  override readonly name = "DialError";
}

export async function dial(address: Address, options: DialOptions = {}): Promise<Duplex> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const retryMs = options.retryMs ?? 10;
  const deadline = Date.now() + timeoutMs;
  let lastError: Error | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      return await dialOnce(address, Math.max(100, deadline - Date.now()));
    } catch (err) {
      lastError = err as Error;
      if (err instanceof DialError || Date.now() + retryMs >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }
  const target = formatAddress(address);
  throw new DialError(
    `cannot connect to ${target} within ${timeoutMs} ms: ${lastError?.message ?? "unknown error"}` +
      " (is the agent running and listening on that address?)",
    { cause: lastError },
  );
}

async function dialOnce(address: Address, timeoutMs: number): Promise<Duplex> {
  switch (address.scheme) {
    case "unix":
      return connectNet({ path: unixSocketPath(address) });
    case "tcp":
      return connectNet({ host: address.host, port: address.port });
    case "vsock":
      return socketFromFd(native().vsockConnect(address.cid, address.port, Math.min(timeoutMs, 2000)));
    case "hvsock": {
      const socket = await connectNet({ path: address.path });
      return hybridHandshake(socket, address.port, Math.min(timeoutMs, 10_000));
    }
    case "serial":
      throw new DialError(
        "serial:// is an agent-side address; connect to the host end of the port (a unix:// socket)",
      );
  }
}

function connectNet(target: net.NetConnectOpts): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(target);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/**
 * Cloud Hypervisor and Firecracker expose guest vsock ports through one Unix socket: write
 * "CONNECT <port>\n", read one line, and it must start with "OK" (e.g. "OK 1073741824\n").
 * From then on the socket is a plain byte pipe to the guest port.
 */
export function hybridHandshake(socket: net.Socket, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    let line = Buffer.alloc(0);
    const timer = setTimeout(
      () => fail(new Error(`no reply to 'CONNECT ${port}' within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("error", fail);
      socket.off("close", onClose);
    };
    const fail = (err: Error) => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onClose = () => fail(new Error(`the VMM closed the socket after 'CONNECT ${port}'`));
    const onData = (chunk: Buffer) => {
      line = Buffer.concat([line, chunk]);
      const nl = line.indexOf(0x0a);
      if (nl < 0) {
        if (line.length > 512) fail(new Error("hybrid vsock reply line is too long"));
        return;
      }
      const reply = line.subarray(0, nl).toString("utf8");
      if (!reply.startsWith("OK")) {
        fail(new DialError(`VMM refused 'CONNECT ${port}': ${JSON.stringify(reply)}`));
        return;
      }
      cleanup();
      socket.pause();
      // Bytes after the OK line already belong to the agent's stream.
      const rest = line.subarray(nl + 1);
      if (rest.length) socket.unshift(rest);
      resolve(socket);
    };
    socket.on("data", onData);
    socket.on("error", fail);
    socket.on("close", onClose);
    socket.write(`CONNECT ${port}\n`);
  });
}
