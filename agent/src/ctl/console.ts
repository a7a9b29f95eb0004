// `kata-agent-ctl console ADDR`: the agent's debug console on this terminal, as `kata-runtime exec`
// gives it: connect to the console port (vsock://CID:1026, hvsock://VMM-SOCKET:1026, unix://...,
// tcp://...), put the terminal in raw mode so that every key (^C included) goes to the guest's
// shell, and relay bytes both ways until the shell exits. The stream has no framing, so the
// window size is not passed on. With stdin not a terminal (a script piped in), its end is sent
// as ^D, which ends the shell's input as it would on a terminal: once the shell's output has
// paused (a ^D typed ahead of the prompt is lost when the shell switches its terminal mode), and
// again after more output and a pause, a few times.
import type { Duplex } from "node:stream";
import { type Address, dial, formatAddress } from "../client/index.js";

/** ^D: end of input for a shell reading a terminal. */
const EOT = "\x04";
/** Output paused this long means the shell waits for input. */
const QUIET_MS = 300;
const MAX_EOT = 5;

export interface ConsoleIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: NodeJS.WritableStream;
  err(text: string): void;
}

/** Relays until the remote side closes; resolves with the exit code for the ctl. */
export async function runConsole(address: Address, connectTimeoutMs: number, io: ConsoleIo): Promise<number> {
  let remote: Duplex;
  try {
    remote = await dial(address, { timeoutMs: connectTimeoutMs });
  } catch (err) {
    io.err(`kata-agent-ctl: console: ${(err as Error).message}\n`);
    return 1;
  }
  const raw = io.stdin.isTTY === true && typeof io.stdin.setRawMode === "function";
  if (raw) {
    io.stdin.setRawMode?.(true);
    io.err(`kata-agent-ctl: connected to ${formatAddress(address)}; exit the shell to leave\r\n`);
  }
  const onInput = (chunk: Buffer | string) => remote.write(chunk);
  // After the input's end: a ^D each time the shell has printed something and then paused (a
  // shell still starting up, or busy, prints nothing: it is waited for, not typed ahead to).
  let quietTimer: NodeJS.Timeout | undefined;
  let inputEnded = false;
  let eotsLeft = MAX_EOT;
  const eotWhenQuiet = () => {
    clearTimeout(quietTimer);
    if (!inputEnded || eotsLeft <= 0) return;
    quietTimer = setTimeout(() => {
      if (remote.destroyed) return;
      eotsLeft--;
      remote.write(EOT);
    }, QUIET_MS);
  };
  let printed = false;
  const onInputEnd = () => {
    inputEnded = true;
    if (printed) eotWhenQuiet();
  };
  remote.on("data", () => {
    printed = true;
    eotWhenQuiet();
  });
  io.stdin.on("data", onInput);
  io.stdin.on("end", onInputEnd);
  io.stdin.resume();
  remote.pipe(io.stdout, { end: false });
  const code = await new Promise<number>((resolve) => {
    remote.on("error", (err) => {
      io.err(`kata-agent-ctl: console: ${err.message}\n`);
      resolve(1);
    });
    remote.on("close", () => resolve(0));
  });
  clearTimeout(quietTimer);
  io.stdin.off("data", onInput);
  io.stdin.off("end", onInputEnd);
  io.stdin.pause();
  if (raw) io.stdin.setRawMode?.(false);
  return code;
}
