// One output stream of a process (stdout, stderr, or a pty master), read the way the Kata runtime
// reads it: ReadStdout blocks until there is data, returns at most `len` bytes, and an empty
// reply means end of file. Everything the process wrote is kept until it is read (bounded: at
// the high-water mark we stop reading the pipe, so the writer blocks as with a plain pipe),
// and when the process exits what is still in the pipe is drained before EOF is reported, so
// the last lines of output are never lost and a background child that keeps the pipe open
// cannot hold the caller's EOF hostage.
import type net from "node:net";
import { readRemaining } from "../native/index.js";

const HIGH_WATER = 4 << 20;
const LOW_WATER = 1 << 20;
/** Most we drain at exit; a child still writing flat out must not keep us in a loop. */
const DRAIN_LIMIT = 64 << 20;
export class OutputStream {
  private chunks: Buffer[] = [];
  private size = 0;
  private ended = false;
  private waiters: (() => void)[] = [];
  private paused = false;

  /** `pty`: the socket is a terminal's master side. */
  constructor(
    private readonly socket: net.Socket,
    pty = false,
  ) {
    socket.on("data", (chunk: Buffer) => this.push(chunk));
    // On a pty master libuv's end of stream can come before the last output (readRemaining).
    socket.on("end", () => (pty ? this.drainAndEnd() : this.end()));
    // A pty master reports the slave side's last close as EIO; for us that is EOF.
    socket.on("error", () => this.end());
    socket.on("close", () => this.end());
  }

  /** Bytes held, waiting to be read. */
  get buffered(): number {
    return this.size;
  }

  get atEof(): boolean {
    return this.ended && this.size === 0;
  }

  /**
   * Up to `max` bytes; waits for data; an empty result is EOF. `cancel` is only asked for when
   * there is nothing to return yet (making an AbortSignal per call costs measurable time).
   */
  async read(max: number, cancel: () => AbortSignal): Promise<Uint8Array> {
    while (this.size === 0 && !this.ended) {
      const signal = cancel();
      signal.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        this.waiters.push(() => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        });
      });
    }
    return this.take(Math.max(1, max));
  }

  /**
   * The process has exited: collect what is still in the pipe, then report EOF even if another
   * process holds the pipe's write end.
   */
  finish(): void {
    this.drainAndEnd();
  }

  /** Takes what is left in the socket and the fd (a pty master to its EIO), then ends. */
  private drainAndEnd(): void {
    if (this.ended) return;
    readRemaining(this.socket, DRAIN_LIMIT, (chunk) => this.push(chunk));
    this.end();
    this.socket.destroy();
  }

  /** Stops reading and releases the fd (process removed). */
  close(): void {
    this.end();
    this.socket.destroy();
    this.chunks = [];
    this.size = 0;
  }

  private push(chunk: Buffer): void {
    if (this.ended) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size >= HIGH_WATER && !this.paused) {
      this.paused = true;
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
    if (this.size === 0) return new Uint8Array(0);
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
    if (this.paused && this.size <= LOW_WATER && !this.ended) {
      this.paused = false;
      this.socket.resume();
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, taken);
  }
}
