// One debug console session: a client connection relayed byte for byte to a new shell on a new
// pty, as upstream's agent serves `kata-runtime exec`. There is no framing and so no way to pass
// a window size: the terminal starts at 24x80. The session ends when the shell exits (its last
// output is sent first) or when the client goes away; then the pty is hung up (SIGHUP to what
// still runs on it) and the shell's process group is killed if it has not exited a moment later.
import { closeSync } from "node:fs";
import type { Duplex } from "node:stream";
import type { Logger } from "../log.js";
import { native, readRemaining, socketFromFd } from "../native/index.js";
import type { Reaper } from "../processes/reaper.js";
import { startShell } from "./shell.js";

/** Rows and columns of a new session's terminal. */
export const INITIAL_SIZE = { rows: 24, cols: 80 } as const;
/** After the shell exits, how long output still draining from the pty is waited for. */
const DRAIN_MS = 500;
/** Most output taken from the pty at the end of a session. */
const DRAIN_LIMIT = 1 << 20;
/** After a hang-up, how long the shell has to exit before its process group is killed. */
const KILL_AFTER_MS = 1000;

export interface SessionOptions {
  shell: string;
  reaper: Reaper;
  log: Logger;
}

/** Serves `client` until either side ends; resolves when the session is over. */
export async function serveSession(client: Duplex, options: SessionOptions): Promise<void> {
  const { log } = options;
  const n = native();
  let master: number;
  let shell: ReturnType<typeof startShell>;
  try {
    const [m, slave] = n.openPty();
    master = m;
    try {
      n.setWinsize(master, INITIAL_SIZE.rows, INITIAL_SIZE.cols);
      shell = startShell(options.shell, slave, options.reaper);
    } catch (err) {
      closeSync(master);
      throw err;
    } finally {
      closeSync(slave);
    }
  } catch (err) {
    log.error("cannot start a debug console shell", { shell: options.shell, error: err });
    client.end(`kata-agent: cannot start ${options.shell}: ${(err as Error).message}\r\n`);
    return;
  }
  log.info("debug console session started", { shellPid: shell.pid, shell: options.shell });

  const pty = socketFromFd(master);
  let ended = false;
  const end = (why: string) => {
    if (ended) return;
    ended = true;
    client.unpipe(pty);
    // What the pty still holds (libuv may end its stream before the last output).
    if (client.writable) readRemaining(pty, DRAIN_LIMIT, (chunk) => client.write(chunk));
    pty.destroy(); // closing the master hangs up the terminal: SIGHUP to its session
    client.end();
    const killer = setTimeout(() => {
      try {
        process.kill(-shell.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, KILL_AFTER_MS);
    killer.unref();
    void shell.exited.then(() => clearTimeout(killer));
    log.info("debug console session ending", { shellPid: shell.pid, why });
  };

  // The pty reports its last writer's close as EIO, or libuv ends its stream early (end() reads the rest).
  pty.on("error", () => end("terminal closed"));
  pty.on("end", () => end("terminal closed"));
  pty.on("data", (chunk: Buffer) => {
    if (!client.write(chunk)) pty.pause();
  });
  client.on("drain", () => pty.resume());
  client.pipe(pty, { end: false });
  client.on("end", () => end("client closed"));
  client.on("close", () => end("client closed"));
  client.on("error", () => end("client error"));

  const status = await shell.exited;
  log.info("debug console shell exited", { shellPid: shell.pid, status: status.status });
  if (!ended) await new Promise((resolve) => setTimeout(resolve, DRAIN_MS));
  end("shell exited");
}
