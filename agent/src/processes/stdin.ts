// A process's standard input: a pipe, or the pty master for a terminal. The agent holds at most
// STDIN_BUFFER_BYTES of input the process has not read yet; a WriteStdin that does not fit waits,
// as a write to a full pipe does, until the process reads, the call's deadline passes or its
// caller goes away (then what it had not yet handed over is dropped), or the process exits.
// Writes are taken in the order they arrive.
import type net from "node:net";
import { PreconditionError, RuntimeFailure } from "../core/domain-error.js";

/**
 * Input the agent holds for one process beyond what the kernel's pipe (64 KiB) takes. Large
 * enough that the runtime's writes (32 KiB pieces from the shim, or a single call of up to
 * 4 MiB taken in parts) flow without waiting on each read of the process, small enough that a
 * process that never reads its stdin costs 1 MiB, not whatever its clients send.
 */
export const STDIN_BUFFER_BYTES = 1 << 20;

/** ^D: the terminal's end-of-file character (VEOF) in canonical mode. */
const EOT = Buffer.from([0x04]);

interface Writer {
  data: Uint8Array;
  /** Bytes of `data` handed over so far. */
  offset: number;
  resolve(n: number): void;
  reject(err: unknown): void;
  signal: AbortSignal;
  onAbort(): void;
}

export class InputStream {
  private closed = false;
  /** Why writes fail from now on, once they do. */
  private ended: Error | undefined;
  /** Writes in arrival order; the first is the one being handed over. */
  private writers: Writer[] = [];

  constructor(
    private readonly socket: net.Socket,
    private readonly terminal: boolean,
  ) {
    socket.on("drain", () => this.pump());
    socket.on("error", (err: NodeJS.ErrnoException) => {
      this.closed = true;
      this.fail(
        err.code === "EPIPE"
          ? new PreconditionError("the process no longer reads its stdin: it closed it or exited", {
              cause: err,
            })
          : new RuntimeFailure(`write to stdin failed: ${err.message}`, { cause: err }),
      );
    });
    socket.on("close", () => {
      this.closed = true;
      this.fail(new PreconditionError("stdin is closed"));
    });
  }

  /** Resolves with data.length once every byte is in the process's input buffer. */
  write(data: Uint8Array, signal: AbortSignal): Promise<number> {
    if (this.ended) return Promise.reject(this.ended);
    if (this.closed || this.socket.destroyed || !this.socket.writable) {
      return Promise.reject(new PreconditionError("stdin is closed"));
    }
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<number>((resolve, reject) => {
      const writer: Writer = {
        data,
        offset: 0,
        resolve,
        reject,
        signal,
        onAbort: () => {
          // What was not handed over is dropped with the call; the bytes already in the
          // buffer stay there, as they would in a pipe.
          this.writers = this.writers.filter((w) => w !== writer);
          reject(signal.reason);
          this.pump();
        },
      };
      signal.addEventListener("abort", writer.onAbort, { once: true });
      this.writers.push(writer);
      this.pump();
    });
  }

  /** Hands bytes of the waiting writes to the socket while the buffer has room. */
  private pump(): void {
    for (;;) {
      const writer = this.writers[0];
      if (!writer || this.socket.destroyed) return;
      const room = STDIN_BUFFER_BYTES - this.socket.writableLength;
      // Full: the socket emits "drain" once the process has read what it holds.
      if (room <= 0) return;
      const end = Math.min(writer.data.length, writer.offset + room);
      // Copied: a view would keep the whole request (up to 4 MiB) alive for its last bytes.
      this.socket.write(Buffer.from(writer.data.subarray(writer.offset, end)));
      writer.offset = end;
      if (writer.offset < writer.data.length) continue;
      this.writers.shift();
      writer.signal.removeEventListener("abort", writer.onAbort);
      writer.resolve(writer.data.length);
    }
  }

  /** Every waiting write fails with `err`, and later ones with `after` (default: the same). */
  private fail(err: Error, after: Error = err): void {
    this.ended ??= after;
    const waiting = this.writers;
    this.writers = [];
    for (const w of waiting) {
      w.signal.removeEventListener("abort", w.onAbort);
      w.reject(err);
    }
  }

  /**
   * The caller has no more input. A pipe is closed once what the buffer holds has been written
   * (the process then reads EOF); a terminal gets its EOF character, because closing a pty
   * master would hang up the session and drop its output. Writes still waiting fail.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fail(
      new PreconditionError("stdin was closed while this write waited"),
      new PreconditionError("stdin is closed"),
    );
    if (this.socket.destroyed || !this.socket.writable) return;
    if (this.terminal) this.socket.write(EOT);
    else this.socket.end();
  }

  /**
   * The process has exited: waiting writes fail, and a pipe is closed at once with what it still
   * held (nobody will read it). A terminal's pty stays open for its remaining output.
   */
  processExited(): void {
    this.fail(new PreconditionError("the process has exited; its stdin takes no more input"));
    if (this.terminal) return;
    this.closed = true;
    this.socket.destroy();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
