// Starting a created runc container without a second runc process. `runc create` leaves the
// container's init waiting to write one byte into a FIFO in the container's state directory
// (<root>/<id>/exec.fifo) and execs the container's process once someone reads it; `runc start`
// does only that: it reads the byte and removes the FIFO (its absence is how runc tells a running
// container from a created one). The agent does the same itself, as Kata's own agent does with
// its built-in libcontainer, and saves a runc process start (a Go binary: about 6 ms natively,
// a fifth of a container's create+start) on every container start.
import { closeSync, constants, fstatSync, openSync, readSync, rmSync } from "node:fs";
import { RuntimeFailure, TimedOutError } from "../core/domain-error.js";
import { socketFromFd } from "../native/index.js";

/** The FIFO's name in runc's per-container state directory (runc 1.0 and later). */
export const EXEC_FIFO = "exec.fifo";

export interface ReleaseOptions {
  /** The container's id, for messages. */
  container: string;
  /** Settles when the container's init exits. */
  initExit: Promise<unknown>;
  timeoutMs: number;
}

/**
 * Reads the init's byte from `fifo` and removes the FIFO. Returns false, having done nothing,
 * when there is no FIFO there (not runc's layout, or not a created container): the caller then
 * asks the runtime. Fails when the init exits before writing or nothing arrives in time.
 */
export async function releaseInit(fifo: string, options: ReleaseOptions): Promise<boolean> {
  const { container, initExit, timeoutMs } = options;
  let fd: number;
  try {
    // Non-blocking: an open for reading must not wait for the writer (the init may not have
    // reached its open yet, or may be gone). Reads then wait in the event loop.
    fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
  if (!fstatSync(fd).isFIFO()) {
    closeSync(fd);
    return false;
  }
  const socket = socketFromFd(fd);
  try {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const done = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      timer = setTimeout(
        () =>
          done(
            new TimedOutError(
              `container ${container} was not started: its init did not signal readiness in ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      socket.once("data", () => done());
      // A writer that came and went without writing: the init failed just before exec.
      socket.once("end", () => done(dead(container)));
      socket.on("error", (err) => done(err));
      // The init can write, exec and exit before the FIFO's readiness reaches us: its byte is
      // still in the FIFO then (read while the fd is still ours: `settled` is false).
      void initExit.then(() => {
        if (!settled) done(byteWaiting(fd) ? undefined : dead(container));
      });
    });
  } finally {
    socket.destroy();
  }
  rmSync(fifo, { force: true });
  return true;
}

function byteWaiting(fd: number): boolean {
  try {
    return readSync(fd, Buffer.alloc(1), 0, 1, null) > 0;
  } catch {
    return false; // EAGAIN: nothing was written
  }
}

function dead(container: string): RuntimeFailure {
  return new RuntimeFailure(
    `container ${container} was not started: its init process exited before it could run the container's process`,
  );
}
