// One output stream of a process (stdout, stderr, or a pty master), read the way the Kata runtime
// reads it: ReadStdout blocks until there is data, returns at most `len` bytes, and an empty
// reply means end of file. When the process exits, what is still in the pipe or pty is drained
// before EOF is reported, so the last lines of output are never lost and a background child that
// keeps the pipe open cannot hold the caller's EOF hostage.
//
// A pipe is read when asked: one non-blocking read(2) takes what the pipe holds (a container's
// pipes are 1 MiB by default, agent.container_pipe_size), and libuv's reading, paused otherwise,
// only serves a reader that found the pipe empty. Streaming output then costs one read(2) and one
// wake-up of the writer per pipe-full, instead of a wake-up on each side per 64 KiB (about 12%
// of the throughput on two cores). While nobody reads, output waits in the pipe, charged to the
// container's memory cgroup rather than to the agent, and a writer that fills it blocks, as with
// any pipe.
//
// A pty master is read by libuv as output arrives, up to a high-water mark: the kernel passes a
// pty's output on asynchronously and reports the other side's close in ways libuv reads early
// (see readRemaining), which reading it also by hand would only make harder to follow; terminals
// are interactive, not bulk.
import { readSync } from "node:fs";
import type net from "node:net";
import { drainBuffered, readRemaining, socketFd } from "../native/index.js";

/** Most one read(2) of a pipe takes: a default-sized pipe's worth. */
const READ_BYTES = 1 << 20;
/** A pty's output held for its reader: libuv stops at the first mark, resumes at the second. */
const PTY_HIGH_WATER = 4 << 20;
const PTY_LOW_WATER = 1 << 20;
/** Most we drain at exit; a child still writing flat out must not keep us in a loop. */
const DRAIN_LIMIT = 64 << 20;
const EMPTY = new Uint8Array(0);

/**
 * Where pipe reads land, shared by every stream (reads are synchronous). A read that fills most
 * of it keeps it, and a new one is made; a short read is copied out, so that a line of output
 * does not pin a mebibyte while it waits for its reader.
 */
let scratch: Buffer | undefined;

function readPipe(fd: number): Buffer | "empty" | "eof" {
  scratch ??= Buffer.allocUnsafe(READ_BYTES);
  let n: number;
  try {
    n = readSync(fd, scratch, 0, scratch.length, null);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EAGAIN" ? "empty" : "eof";
  }
  if (n === 0) return "eof";
  if (n < READ_BYTES / 2) return Buffer.from(scratch.subarray(0, n));
  const chunk = scratch.subarray(0, n);
  scratch = undefined;
  return chunk;
}

export class OutputStream {
  private chunks: Buffer[] = [];
  private size = 0;
  private ended = false;
  /** A read has returned the end. */
  private eofRead = false;
  /** Some output ever came through. */
  private carried = false;
  private waiters: (() => void)[] = [];
  /** A pty whose reading we stopped at the high-water mark. */
  private held = false;

  /** `pty`: the socket is a terminal's master side. */
  constructor(
    private readonly socket: net.Socket,
    private readonly pty = false,
  ) {
    socket.on("data", (chunk: Buffer) => this.push(chunk));
    // On a pty master libuv's end of stream can come before the last output (readRemaining).
    socket.on("end", () => (pty ? this.drainAndEnd() : this.end()));
    // A pty master reports the slave side's last close as EIO; for us that is EOF. A chunk libuv
    // read ahead into a paused socket is still in its buffer: taken first.
    socket.on("error", () => this.drainAndEnd());
    socket.on("close", () => this.drainAndEnd());
    if (!pty) socket.pause();
  }

  /** Bytes held, waiting to be read. */
  get buffered(): number {
    return this.size;
  }

  /**
   * Nothing more for anyone: the end has been read (an empty reply went out), or the stream
   * ended without ever carrying a byte. A reader that took the last bytes still gets its EOF.
   */
  get done(): boolean {
    return this.ended && this.size === 0 && (this.eofRead || !this.carried);
  }

  /**
   * Up to `max` bytes; waits for data; an empty result is EOF. `cancel` is only asked for when
   * there is nothing to return yet (making an AbortSignal per call costs measurable time).
   */
  async read(max: number, cancel: () => AbortSignal): Promise<Uint8Array> {
    for (;;) {
      if (this.size > 0) return this.take(Math.max(1, max));
      if (this.ended) {
        this.eofRead = true;
        return EMPTY;
      }
      if (!this.pty && this.fillFromPipe()) continue;
      await this.whenReadable(cancel());
    }
  }

  /**
   * The process has exited: collect what is still in the pipe, then report EOF even if another
   * process holds the pipe's write end.
   */
  finish(): void {
    this.drainAndEnd();
  }

  /** Stops reading and releases the fd (process removed). */
  close(): void {
    this.end();
    this.socket.destroy();
    this.chunks = [];
    this.size = 0;
  }

  /**
   * Reads what the pipe holds now, after anything libuv read while a reader waited (which came
   * first). False when there was nothing yet.
   */
  private fillFromPipe(): boolean {
    drainBuffered(this.socket);
    if (this.size > 0 || this.ended) return true;
    let fd: number;
    try {
      fd = socketFd(this.socket);
    } catch {
      this.end(); // closed
      return true;
    }
    const chunk = readPipe(fd);
    if (chunk === "empty") return false;
    if (chunk === "eof") this.end();
    else this.push(chunk);
    return true;
  }

  /** Waits until something arrives (push or end wakes us); a pipe's libuv reading runs meanwhile. */
  private async whenReadable(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (!this.pty) this.socket.resume();
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }

  /** Takes what is left in the socket and the fd (a pty master to its EIO), then ends. */
  private drainAndEnd(): void {
    if (this.ended) return;
    readRemaining(this.socket, DRAIN_LIMIT, (chunk) => this.push(chunk));
    this.end();
    this.socket.destroy();
  }

  private push(chunk: Buffer): void {
    if (this.ended) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    this.carried = true;
    if (!this.pty) {
      // A pipe's 'data' events are for a waiting reader, which has this now.
      this.socket.pause();
    } else if (this.size >= PTY_HIGH_WATER && !this.held) {
      this.held = true;
      this.socket.pause();
    }
    this.wake();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private take(max: number): Uint8Array {
    const parts: Buffer[] = [];
    let taken = 0;
    while (taken < max && this.chunks.length) {
      const head = this.chunks[0]!;
      const want = max - taken;
      if (head.length <= want) {
        parts.push(head);
        taken += head.length;
        this.chunks.shift();
      } else {
        parts.push(head.subarray(0, want));
        this.chunks[0] = head.subarray(want);
        taken += want;
      }
    }
    this.size -= taken;
    if (this.held && this.size <= PTY_LOW_WATER && !this.ended) {
      this.held = false;
      this.socket.resume();
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, taken);
  }
}
