// Raw fds as Node streams. `new net.Socket({ fd })` only accepts fds libuv can classify (TCP, UDP,
// unix sockets, pipes) and throws ERR_INVALID_FD_TYPE for AF_VSOCK sockets and char devices (ptys,
// virtio-serial ports). libuv's pipe handle has no such check: uv_pipe_open() adopts any fd that
// supports epoll, so we open the fd with Node's internal Pipe wrap and hand that to net.Socket.
import { readFileSync, readSync } from "node:fs";
import net from "node:net";
import { getSystemErrorMap } from "node:util";

/** The parts of Node's internal `pipe_wrap` binding used here (libuv status codes: 0 or -errno). */
interface PipeHandle {
  readonly fd: number;
  open(fd: number): number;
  listen(backlog: number): number;
  close(callback?: () => void): void;
  onconnection: ((status: number, client?: PipeHandle) => void) | null;
}

interface PipeWrap {
  Pipe: new (type: number) => PipeHandle;
  constants: { SOCKET: number; SERVER: number };
}

let pipeWrap: PipeWrap | undefined;

function binding(): PipeWrap {
  if (pipeWrap === undefined) {
    // process.binding is deprecated (DEP0111; it warns under --pending-deprecation) and absent from
    // @types/node, hence the cast. Silence only this call: later callers still get their warning.
    const legacy = process as unknown as { binding(name: "pipe_wrap"): PipeWrap };
    // Under `node --no-deprecation` the property is read-only (and warnings are off anyway).
    const writable = Object.getOwnPropertyDescriptor(process, "noDeprecation")?.writable !== false;
    const saved = process.noDeprecation;
    if (writable) process.noDeprecation = true;
    try {
      pipeWrap = legacy.binding("pipe_wrap");
    } finally {
      if (writable) process.noDeprecation = saved;
    }
  }
  return pipeWrap;
}

/** An error shaped like Node's own, from a libuv status (-errno). */
function uvError(status: number, syscall: string): NodeJS.ErrnoException {
  const [code, description] = getSystemErrorMap().get(status) ?? ["UNKNOWN", "unknown error"];
  return Object.assign(new Error(`${syscall}: ${code} (${description})`), { code, errno: status, syscall });
}

/**
 * Which ways `fd` was opened, from /proc/self/fdinfo: libuv refuses to read a write-only fd (and
 * net.Socket starts reading at once), so the write end of a pipe must be a write-only socket.
 */
function accessMode(fd: number): { readable: boolean; writable: boolean } {
  let flags = "2"; // no /proc yet (early boot): assume O_RDWR
  try {
    flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1] ?? flags;
  } catch {
    // keep the default; a bad fd is reported by uv_pipe_open below
  }
  const mode = Number.parseInt(flags, 8) & 3; // O_ACCMODE: 0 O_RDONLY, 1 O_WRONLY, 2 O_RDWR
  return { readable: mode !== 1, writable: mode !== 0 };
}

/**
 * A `net.Socket` over a connected socket, pipe end or char device fd. The socket owns the fd from
 * then on (destroying it closes the fd); if this throws, the caller still owns it.
 * A pty master reports the slave's last close as an EIO error, not as EOF.
 */
export function socketFromFd(fd: number): net.Socket {
  const { Pipe, constants } = binding();
  const handle = new Pipe(constants.SOCKET);
  const status = handle.open(fd);
  if (status !== 0) {
    handle.close();
    throw uvError(status, "uv_pipe_open");
  }
  // `handle` is an undocumented but long-standing net.Socket option (child_process and cluster use it).
  const options: net.SocketConstructorOpts & { handle: PipeHandle } = { handle, ...accessMode(fd) };
  return new net.Socket(options);
}

/**
 * The fd under a `net.Socket` or `net.Server`, e.g. an accepted console-socket connection for
 * `recvFd` (accept it with `pauseOnConnect: true`, or Node reads the message first).
 */
export function socketFd(socket: net.Socket | net.Server): number {
  // _handle is internal to net; Pipe and TCP handles expose the fd on Unix.
  const fd = (socket as unknown as { _handle?: { fd?: number } | null })._handle?.fd ?? -1;
  if (fd < 0) throw new Error("socketFd: the socket has no fd (not connected yet, or closed)");
  return fd;
}

/**
 * Hands what a paused socket has buffered to its 'data' listeners, in order. (A paused net.Socket
 * still reads its fd until its buffer passes the high-water mark: one chunk at most.)
 */
export function drainBuffered(socket: net.Socket): void {
  // Readable.read() passes each chunk it returns to the 'data' listeners itself.
  while (socket.read() !== null);
}

/**
 * Reads what is left on a socket's fd, synchronously, handing each chunk to `onChunk`: what the
 * stream has buffered, then the fd until it is empty (EAGAIN), the other side is gone (EOF, or
 * EIO on a pty master) or `limit` bytes. The socket is left paused. For a pty master this must
 * follow libuv's end of stream: libuv ends it when poll reports the other side's hang-up after a
 * short read, while the kernel still holds the last output (it passes a pty's output on
 * asynchronously, and hands all of it to a read before it reports EIO).
 */
export function readRemaining(socket: net.Socket, limit: number, onChunk: (chunk: Buffer) => void): void {
  socket.pause();
  drainBuffered(socket);
  let fd: number;
  try {
    fd = socketFd(socket);
  } catch {
    return; // already closed: nothing left
  }
  const buf = Buffer.allocUnsafe(64 * 1024);
  for (let read = 0; read < limit; ) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch {
      return; // EAGAIN: empty; EIO: the pty's other side is gone
    }
    if (n === 0) return;
    onChunk(Buffer.from(buf.subarray(0, n)));
    read += n;
  }
}

export interface ListenOptions {
  /** Passed to listen(2) again, replacing the backlog the fd was created with. Default 511. */
  backlog?: number;
  /** Accept errors (EMFILE, ECONNABORTED); libuv keeps listening. Default: a process warning. */
  onError?: (error: Error) => void;
}

/**
 * Accepts connections on an fd that is already bound and listening (e.g. from `vsockListen`).
 * `net.Server.listen()` cannot take it: given a pipe handle it falls back to the fd, whose type
 * libuv does not know (EINVAL). So the Pipe handle listens itself and wraps each accepted
 * connection as `net.Server` would. From then on the listener owns the fd and `close()` closes it.
 */
export function listenOnFd(
  fd: number,
  onConnection: (socket: net.Socket) => void,
  { backlog = 511, onError = (error) => process.emitWarning(error) }: ListenOptions = {},
): { close(): Promise<void> } {
  const { Pipe, constants } = binding();
  const handle = new Pipe(constants.SERVER);
  const opened = handle.open(fd);
  // libuv only starts accepting from uv_listen(); listen(2) on a listening socket is harmless.
  const status = opened !== 0 ? opened : handle.listen(backlog);
  if (status !== 0) {
    handle.close(); // closes the fd only if open() had adopted it
    throw uvError(status, opened !== 0 ? "uv_pipe_open" : "listen");
  }
  handle.onconnection = (error, client) => {
    if (error !== 0 || client === undefined) return onError(uvError(error, "accept"));
    const options: net.SocketConstructorOpts & { handle: PipeHandle } = {
      handle: client,
      readable: true,
      writable: true,
    };
    onConnection(new net.Socket(options));
  };
  let closed: Promise<void> | undefined;
  return {
    close: () => {
      closed ??= new Promise((resolve) => handle.close(resolve));
      return closed;
    },
  };
}
