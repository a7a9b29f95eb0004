// Where the ctl reads and writes: the process's streams, or a test's.
import { readFileSync } from "node:fs";
import { formatError, type Styles, stylesFor } from "../cli/index.js";

export interface Io {
  /** Results: replies, container output. */
  out(text: string | Uint8Array): void;
  /** Errors and progress. */
  err(text: string | Uint8Array): void;
  /** All of stdin, for a request given as "-". */
  stdin(): string;
  /** Whether stdout is a terminal (replies read by a person). */
  outIsTTY: boolean;
  /** Styles for stderr: colour only on a terminal, never with NO_COLOR. */
  errStyle: Styles;
}

export function processIo(): Io {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    stdin: () => readFileSync(0, "utf8"),
    outIsTTY: process.stdout.isTTY === true,
    errStyle: stylesFor(process.stderr),
  };
}

/** An error as every bin prints one: the program, the message, what to do. */
export function reportError(io: Io, message: string, hint?: string): void {
  io.err(formatError("kata-agent-ctl", message, hint, io.errStyle));
}
