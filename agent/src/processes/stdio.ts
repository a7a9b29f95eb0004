// Standard streams for a new container process, set up before the OCI runtime runs it:
// three pipes (the child ends go to the runtime, which hands them to the process), or a
// console socket on which the runtime sends back the pty master it created.
import { closeSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { CancelledError, RuntimeFailure } from "../core/domain-error.js";
import { native, socketFd, socketFromFd } from "../native/index.js";
import type { Stdio } from "../runtime/oci-runtime.js";
import { OutputStream } from "./output.js";
import { InputStream } from "./stdin.js";

export interface Streams {
  stdin: InputStream;
  stdout: OutputStream;
  /** Absent for a terminal: the pty carries both. */
  stderr?: OutputStream;
  /** The pty master's fd, for TIOCSWINSZ. */
  ptyMaster?: () => number;
}

export interface PreparedStdio {
  /** What the runtime's own stdio must be. */
  childIo: Stdio;
  consoleSocket?: string;
  /** Once the runtime has started the process: the parent's ends as streams. */
  attach(): Promise<Streams>;
  /** Releases everything (the process could not be started). */
  dispose(): void;
}

export async function prepareStdio(options: {
  terminal: boolean;
  dir: string;
  name: string;
  pipeSize: number;
}): Promise<PreparedStdio> {
  return options.terminal ? prepareTerminal(options.dir, options.name) : preparePipes(options.pipeSize);
}

function preparePipes(pipeSize: number): PreparedStdio {
  const n = native();
  const [stdinRead, stdinWrite] = n.pipe();
  const [stdoutRead, stdoutWrite] = n.pipe();
  const [stderrRead, stderrWrite] = n.pipe();
  if (pipeSize > 0) {
    for (const fd of [stdoutWrite, stderrWrite]) {
      try {
        n.setPipeSize(fd, pipeSize);
      } catch {
        // Refused (an unprivileged agent past pipe-max-size or pipe-user-pages-soft, or a size
        // F_SETPIPE_SZ cannot take): the pipe keeps the kernel's size, and works; it only holds
        // less while nobody reads.
      }
    }
  }
  const childEnds = [stdinRead, stdoutWrite, stderrWrite];
  const parentEnds = [stdinWrite, stdoutRead, stderrRead];
  let childClosed = false;
  const closeChildEnds = () => {
    if (childClosed) return;
    childClosed = true;
    for (const fd of childEnds) closeSync(fd);
  };
  return {
    childIo: { stdin: stdinRead, stdout: stdoutWrite, stderr: stderrWrite },
    async attach() {
      // The process holds its own copies now; ours would keep EOF from ever arriving.
      closeChildEnds();
      return {
        stdin: new InputStream(socketFromFd(stdinWrite), false),
        stdout: new OutputStream(socketFromFd(stdoutRead)),
        stderr: new OutputStream(socketFromFd(stderrRead)),
      };
    },
    dispose() {
      closeChildEnds();
      for (const fd of parentEnds) closeSync(fd);
    },
  };
}

async function prepareTerminal(dir: string, name: string): Promise<PreparedStdio> {
  const socketPath = path.join(dir, `${name}.console.sock`);
  let resolveMaster: (fd: number) => void = () => {};
  let rejectMaster: (err: Error) => void = () => {};
  const master = new Promise<number>((resolve, reject) => {
    resolveMaster = resolve;
    rejectMaster = reject;
  });
  master.catch(() => {});
  // The runtime connects and sends the pty master with SCM_RIGHTS; read it before Node does.
  const server = net.createServer({ pauseOnConnect: true }, (conn) => {
    try {
      resolveMaster(native().recvFd(socketFd(conn), 5000));
    } catch (err) {
      rejectMaster(err as Error);
    } finally {
      conn.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  const stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return {
    childIo: { stdin: "ignore", stdout: "ignore", stderr: "ignore" },
    consoleSocket: socketPath,
    async attach() {
      const timer = setTimeout(
        () => rejectMaster(new RuntimeFailure("the OCI runtime sent no terminal on its console socket")),
        5000,
      );
      try {
        const fd = await master;
        const socket = socketFromFd(fd);
        return {
          stdin: new InputStream(socket, true),
          stdout: new OutputStream(socket, true),
          ptyMaster: () => socketFd(socket),
        };
      } finally {
        clearTimeout(timer);
        await stop();
      }
    },
    dispose() {
      void stop();
      master.then(
        (fd) => closeSync(fd),
        () => {},
      );
      rejectMaster(new CancelledError("process not started"));
    },
  };
}
