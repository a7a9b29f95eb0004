// Listeners for every server address scheme. Each hands over connections as Duplex streams and
// knows nothing of what flows over them.
import { lstatSync, unlinkSync } from "node:fs";
import net from "node:net";
import type { Duplex } from "node:stream";
import { listenOnFd, native, socketFd, type VsockPeer } from "../native/index.js";
import { type Address, formatAddress, unixSocketPath } from "./address.js";
import { listenSerial } from "./serial.js";
import { LoopbackGuard } from "./vsock-loopback.js";

export type OnConnection = (socket: Duplex, peer: string) => void;

export interface Listener {
  /** The address as configured, e.g. "vsock://-1:1024". */
  readonly address: string;
  /** Stops accepting; connections already handed over stay open. */
  close(): Promise<void>;
}

export interface ListenOptions {
  /** Reports problems a listener recovers from (accept errors, serial reconnects, refusals). */
  onWarning?: (message: string, fields?: Record<string, unknown>) => void;
  /** vsock only: also admit peers inside this machine (vsock loopback). Default false. */
  allowVsockLoopback?: boolean;
}

export async function listen(
  address: Address,
  onConnection: OnConnection,
  options: ListenOptions = {},
): Promise<Listener> {
  try {
    return await listenOn(address, onConnection, options);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint =
      code === "EADDRINUSE"
        ? " (another agent is listening there; stop it or choose another address)"
        : code === "EACCES" || code === "EPERM"
          ? " (permission denied)"
          : "";
    throw new Error(`cannot listen on ${formatAddress(address)}: ${(err as Error).message}${hint}`, {
      cause: err,
    });
  }
}

async function listenOn(
  address: Address,
  onConnection: OnConnection,
  options: ListenOptions,
): Promise<Listener> {
  const text = formatAddress(address);
  const warn = options.onWarning ?? (() => {});
  switch (address.scheme) {
    case "unix":
    case "tcp":
      return listenNet(address, text, onConnection);
    case "vsock": {
      // Node's net module cannot create AF_VSOCK sockets; the addon makes one, libuv serves it.
      const fd = native().vsockListen(address.cid, address.port, 128);
      const guard = new LoopbackGuard({
        allow: options.allowVsockLoopback ?? false,
        localCid: localCid(),
        address: text,
        warn,
      });
      const server = listenOnFd(
        fd,
        (socket) => {
          let peer: VsockPeer;
          try {
            peer = native().vsockPeer(socketFd(socket));
          } catch (error) {
            // Gone before we looked (ENOTCONN): nobody to serve.
            warn("cannot read a vsock peer's address; closing the connection", { error });
            socket.destroy();
            return;
          }
          if (!guard.admit(peer)) {
            socket.destroy();
            return;
          }
          onConnection(socket, `vsock:${peer.cid}:${peer.port}`);
        },
        { onError: (error) => warn("vsock accept failed", { error }) },
      );
      return { address: text, close: () => server.close() };
    }
    case "serial":
      return listenSerial(address.name, text, onConnection, warn);
    case "hvsock":
      throw new Error(
        `${text}: hybrid vsock is a client-side address (the VMM listens, the agent sees plain vsock)`,
      );
  }
}

async function listenNet(
  address: Extract<Address, { scheme: "unix" | "tcp" }>,
  text: string,
  onConnection: OnConnection,
): Promise<Listener> {
  const server = net.createServer((socket) => {
    const peer = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : "unix";
    onConnection(socket, peer);
  });
  if (address.scheme === "unix" && !address.abstract) removeStaleSocket(address.path);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const done = () => {
      server.off("error", reject);
      resolve();
    };
    if (address.scheme === "unix") server.listen(unixSocketPath(address), done);
    else server.listen(address.port, address.host, done);
  });
  return {
    address: text,
    // server.close()'s callback waits for every accepted connection to end; ours must not
    // (the ttrpc server decides when those close), so it only stops the accepting.
    close: async () => {
      server.close();
    },
  };
}

/** A socket file left by an earlier run would make bind fail with EADDRINUSE; anything else is kept. */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // nothing there
  }
}

let ownCid: { cid: number | undefined } | undefined;

/** This machine's CID, read once; undefined without /dev/vsock (then only CID 1 is local). */
function localCid(): number | undefined {
  if (!ownCid) {
    try {
      ownCid = { cid: native().vsockLocalCid() };
    } catch {
      ownCid = { cid: undefined };
    }
  }
  return ownCid.cid;
}
