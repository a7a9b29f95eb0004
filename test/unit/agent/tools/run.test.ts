// The runner the agent and the builder share: what it hands the program, and what it reports.
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runProgram, stdoutText } from "../../../../agent/src/tools/run.js";

const dir = mkdtempSync(join(tmpdir(), "kata-runner-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("runProgram", () => {
  it("runs in the given directory with the given variables added to the environment", async () => {
    const r = await runProgram("sh", ["-c", 'pwd; echo "$KATA_X"; test -n "$HOME" && echo inherited'], {
      cwd: dir,
      env: { KATA_X: "y" },
    });
    expect(r.exitCode).toBe(0);
    expect(stdoutText(r)).toBe(`${dir}\ny\ninherited\n`);
    expect(r.command).toBe(`sh -c pwd; echo "$KATA_X"; test -n "$HOME" && echo inherited`);
  });

  it("treats a timeout longer than a timer can hold as none, not as 1 ms", async () => {
    for (const timeoutMs of [2 ** 31, 2 ** 40]) {
      const r = await runProgram("sleep", ["0.2"], { timeoutMs });
      expect({ exitCode: r.exitCode, timedOut: r.timedOut }).toEqual({ exitCode: 0, timedOut: false });
    }
  });

  it("runs at most 16 programs at once; a queued run whose caller goes away starts nothing", async () => {
    const spans = await Promise.all(
      Array.from({ length: 40 }, () =>
        runProgram("sh", ["-c", "date +%s%N; sleep 0.2; date +%s%N"]).then((r) =>
          stdoutText(r).trim().split("\n").map(Number),
        ),
      ),
    );
    let most = 0;
    for (const [start] of spans) {
      most = Math.max(most, spans.filter(([s, e]) => s! <= start! && start! < e!).length);
    }
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(16);
    // With every slot taken, a run that is cancelled while it waits never starts.
    const marker = join(dir, "started");
    const busy = Array.from({ length: 16 }, () => runProgram("sleep", ["0.5"]));
    const controller = new AbortController();
    const queued = runProgram("sh", ["-c", `touch ${marker}`], { signal: controller.signal });
    controller.abort();
    expect((await queued).isCanceled).toBe(true);
    await Promise.all(busy);
    expect(existsSync(marker)).toBe(false);
  });

  it("hands an open fd of ours to the program as its stdout", async () => {
    const file = join(dir, "out");
    const fd = openSync(file, "w");
    try {
      const r = await runProgram("sh", ["-c", "echo to-the-file"], { stdio: { stdout: fd } });
      expect(r.exitCode).toBe(0);
      expect(r.stdout.length).toBe(0);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(file, "utf8")).toBe("to-the-file\n");
  });

  it("reports the signal that ended the program, with the kill signal asked for", async () => {
    // A program that ignores SIGTERM stops at once when the kill signal is SIGKILL (without
    // it, only the SIGKILL that follows 5 s later would end it).
    const started = Date.now();
    const r = await runProgram("sh", ["-c", "trap '' TERM; exec sleep 10"], {
      timeoutMs: 100,
      killSignal: "SIGKILL",
    });
    expect(r).toMatchObject({
      timedOut: true,
      exitCode: undefined,
      signal: "SIGKILL",
      spawnError: undefined,
    });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("has no time limit unless given one, and keeps stderr as text", async () => {
    const r = await runProgram("sh", ["-c", "sleep 0.2; echo 'warn: x' >&2; exit 4"]);
    expect(r).toMatchObject({ exitCode: 4, timedOut: false, stderr: "warn: x" });
  });
});
