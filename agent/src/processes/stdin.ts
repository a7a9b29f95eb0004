// A process's standard input: a pipe, or the pty master for a terminal. WriteStdin waits until
// the bytes are handed to the kernel (the pipe may be full), so its reply length is the truth.
import type net from "node:net";
import { PreconditionError, RuntimeFailure } from "../core/domain-error.js";

/** ^D: the terminal's end-of-file character (VEOF) in canonical mode. */
const EOT = Buffer.from([0x04]);

export class InputStream {
  private closed = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly terminal: boolean,
  ) {
    socket.on("error", () => {
      this.closed = true;
    });
  }

  async write(data: Uint8Array, signal: AbortSignal): Promise<number> {
    if (this.closed || this.socket.destroyed || !this.socket.writable) {
      throw new PreconditionError("stdin is closed");
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      this.socket.write(data, (err) => {
        signal.removeEventListener("abort", onAbort);
        if (err) reject(new RuntimeFailure(`write to stdin failed: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
    return data.length;
  }

  /**
   * The caller has no more input. A pipe is closed (the process reads EOF); a terminal gets its
   * EOF character, because closing a pty master would hang up the session and drop its output.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.socket.destroyed || !this.socket.writable) return;
    if (this.terminal) this.socket.write(EOT);
    else this.socket.end();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
