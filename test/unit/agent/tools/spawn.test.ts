// The OCI runtime's direct spawn path: exit codes and signals, a timeout and an abort that
// terminate the program, a program that cannot start, and fds of ours as its stdio.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { spawnAndWait } from "../../../../agent/src/tools/spawn.js";

const dir = mkdtempSync(join(tmpdir(), "spawn-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("spawnAndWait", () => {
  it("reports the exit code, and the signal that ended a program", async () => {
    expect(await spawnAndWait("/bin/sh", ["-c", "exit 3"])).toMatchObject({
      command: "/bin/sh -c exit 3",
      exitCode: 3,
      signal: undefined,
      timedOut: false,
      isCanceled: false,
      spawnError: undefined,
    });
    expect(await spawnAndWait("/bin/sh", ["-c", "kill -9 $$"])).toMatchObject({
      exitCode: undefined,
      signal: "SIGKILL",
    });
  });

  it("terminates a program that outlives its timeout", async () => {
    const t0 = performance.now();
    const r = await spawnAndWait("/bin/sleep", ["30"], { timeoutMs: 200 });
    expect(r).toMatchObject({ timedOut: true, signal: "SIGTERM" });
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it("terminates it when the call is aborted, and starts nothing when already aborted", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    expect(await spawnAndWait("/bin/sleep", ["30"], { signal: controller.signal })).toMatchObject({
      isCanceled: true,
      signal: "SIGTERM",
    });
    const marker = join(dir, "started");
    const r = await spawnAndWait("/bin/sh", ["-c", `touch ${marker}`], { signal: AbortSignal.abort() });
    expect(r).toMatchObject({ isCanceled: true, exitCode: undefined });
    expect(() => readFileSync(marker)).toThrow();
  });

  it("says why a program could not start", async () => {
    const r = await spawnAndWait("/nonexistent/runc", ["--version"]);
    expect(r.exitCode).toBeUndefined();
    expect(r.spawnError).toBe("spawn /nonexistent/runc ENOENT");
  });

  it("hands fds of ours to the program as its stdout and stderr", async () => {
    const out = join(dir, "out");
    const fd = openSync(out, "w");
    try {
      const r = await spawnAndWait("/bin/sh", ["-c", "echo to-stdout; echo to-stderr >&2"], {
        stdio: { stdout: fd, stderr: fd },
      });
      expect(r.exitCode).toBe(0);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(out, "utf8")).toBe("to-stdout\nto-stderr\n");
  });
});
