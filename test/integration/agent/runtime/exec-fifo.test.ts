// runc's exec FIFO handshake, done by the agent (agent/src/runtime/exec-fifo.ts), against real
// FIFOs and real writer processes in every order the container's init can take.
import { execFileSync, spawn } from "node:child_process";
import {
  closeSync,
  constants,
  existsSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { releaseInit } from "../../../../agent/src/runtime/exec-fifo.js";

let dir: string;
let fifo: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "exec-fifo-"));
  fifo = path.join(dir, "exec.fifo");
  execFileSync("mkfifo", ["-m", "0622", fifo]);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in for runc's init: a shell that runs `script` (with $1 = the FIFO), and its exit. */
function init(script: string): { exit: Promise<number | null>; pid: number } {
  const child = spawn("sh", ["-c", script, "init", fifo], { stdio: "ignore" });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { exit, pid: child.pid! };
}

const never = new Promise<never>(() => {});

describe("releaseInit (runc's `start`, done by the agent)", () => {
  it("reads the byte of an init already blocked opening the FIFO, then removes the FIFO", async () => {
    const marker = path.join(dir, "ran");
    // The writer's open blocks until a reader comes; it runs `touch` only after its write.
    const p = init(`printf 0 > "$1" && touch ${marker}`);
    await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(marker)).toBe(false);
    await expect(releaseInit(fifo, { container: "c", initExit: p.exit, timeoutMs: 10_000 })).resolves.toBe(
      true,
    );
    expect(await p.exit).toBe(0);
    expect(existsSync(marker)).toBe(true);
    expect(existsSync(fifo)).toBe(false);
  });

  it("waits for an init that reaches the FIFO only after the reader has opened it", async () => {
    const started = releaseInit(fifo, { container: "c", initExit: never, timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 150));
    const p = init(`sleep 0.1; printf 0 > "$1"`);
    await expect(started).resolves.toBe(true);
    expect(await p.exit).toBe(0);
    expect(existsSync(fifo)).toBe(false);
  });

  it("takes a byte already written by an init that has exited since", async () => {
    // Hold the FIFO open for writing ourselves (O_RDWR does not wait for a reader) and leave the
    // byte in it; the init's exit is reported before the reader sees the byte.
    const held = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    writeSync(held, "0");
    try {
      await expect(
        releaseInit(fifo, { container: "c", initExit: Promise.resolve(0), timeoutMs: 10_000 }),
      ).resolves.toBe(true);
    } finally {
      closeSync(held);
    }
    expect(existsSync(fifo)).toBe(false);
  });

  it("fails, and keeps the FIFO, when the init exits without writing", async () => {
    const p = init("exit 1");
    await expect(releaseInit(fifo, { container: "c9", initExit: p.exit, timeoutMs: 10_000 })).rejects.toThrow(
      /container c9 was not started: its init process exited before/,
    );
    expect(existsSync(fifo)).toBe(true);
  });

  it("fails when the init opens the FIFO and closes it without writing", async () => {
    const started = releaseInit(fifo, { container: "c", initExit: never, timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 100));
    init(`: > "$1"`);
    await expect(started).rejects.toThrow(/exited before it could run/);
  });

  it("gives up after its timeout when nothing ever writes", async () => {
    const t0 = performance.now();
    await expect(
      releaseInit(fifo, { container: "c", initExit: never, timeoutMs: 300 }),
    ).rejects.toMatchObject({
      name: "TimedOutError",
      message: expect.stringMatching(/did not signal readiness in 300 ms/),
    });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(existsSync(fifo)).toBe(true);
  });

  it("leaves the start to the runtime when there is no FIFO, or something else is there", async () => {
    rmSync(fifo);
    await expect(releaseInit(fifo, { container: "c", initExit: never, timeoutMs: 1000 })).resolves.toBe(
      false,
    );
    writeFileSync(fifo, "0");
    await expect(releaseInit(fifo, { container: "c", initExit: never, timeoutMs: 1000 })).resolves.toBe(
      false,
    );
    expect(existsSync(fifo)).toBe(true);
  });
});
