import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { FaultKind } from "../../../../agent/src/core/domain-error.js";
import { type RunResult, stdoutText } from "../../../../agent/src/tools/run.js";
import { ensureOk, runTool } from "../../../../agent/src/tools/tool.js";

describe("runTool (the guest's defaults on the shared runner)", () => {
  it("returns exit code, stdout and stderr without throwing", async () => {
    const r = await runTool("sh", ["-c", "printf out; echo 'it broke' >&2; exit 3"]);
    expect(r).toMatchObject({
      exitCode: 3,
      stderr: "it broke",
      isCanceled: false,
      timedOut: false,
      spawnError: undefined,
    });
    expect(stdoutText(r)).toBe("out");
  });

  it("feeds input on stdin, byte for byte", async () => {
    const data = new Uint8Array([0, 1, 2, 255, 10]);
    const r = await runTool("cat", [], { input: data });
    expect([...r.stdout]).toEqual([...data]);
  });

  it("reports a program that cannot be started", async () => {
    const r = await runTool("/nonexistent/ip", ["link"]);
    expect(r.exitCode).toBeUndefined();
    expect(r.spawnError).toMatch(/ENOENT/);
  });

  it("starts nothing for a call that is already cancelled", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kata-run-"));
    const marker = join(dir, "ran");
    try {
      const r = await runTool("sh", ["-c", `touch ${marker}`], { signal: AbortSignal.abort() });
      expect(r.isCanceled).toBe(true);
      expect(existsSync(marker)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("stops the program when the call is cancelled", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const r = await runTool("sleep", ["10"], { signal: controller.signal });
    expect(r.isCanceled).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("stops the program after its timeout", async () => {
    const r = await runTool("sleep", ["10"], { timeout: 100 });
    expect(r.timedOut).toBe(true);
  });

  it("runs tools in the C locale with sbin on the PATH", async () => {
    const r = await runTool("sh", ["-c", 'echo "$LC_ALL:$PATH"']);
    const [locale, path] = stdoutText(r).trim().split(":", 2) as [string, string];
    expect(locale).toBe("C");
    expect(stdoutText(r)).toContain("/usr/sbin");
    expect(path.length).toBeGreaterThan(0);
  });
});

describe("ensureOk", () => {
  const result = (over: Partial<RunResult>): RunResult => ({
    command: "ip link set dev eth0 up",
    exitCode: 0,
    signal: undefined,
    isCanceled: false,
    timedOut: false,
    spawnError: undefined,
    stdout: new Uint8Array(),
    stderr: "",
    ...over,
  });

  it("passes a successful result through", () => {
    const ok = result({});
    expect(ensureOk(ok, "x")).toBe(ok);
  });

  it("names the signal that killed a tool, which has no exit status", async () => {
    const r = await runTool("sh", ["-c", "kill -KILL $$"]);
    expect(r).toMatchObject({ exitCode: undefined, signal: "SIGKILL" });
    expect(() => ensureOk(r, "compact memory")).toThrow(
      expect.objectContaining({
        kind: "runtime-failure",
        message: "compact memory: sh was killed by SIGKILL",
      }),
    );
  });

  it("turns each failure into the domain error it is", () => {
    const cases: [Partial<RunResult>, FaultKind, RegExp][] = [
      [
        { exitCode: 2, stderr: "RTNETLINK answers: File exists" },
        "runtime-failure",
        /^set link: ip exited with status 2: RTNETLINK answers: File exists$/,
      ],
      [{ exitCode: 1 }, "runtime-failure", /^set link: ip exited with status 1$/],
      [{ exitCode: undefined, isCanceled: true }, "cancelled", /cancelled/],
      [{ exitCode: undefined, timedOut: true }, "timed-out", /timed out/],
      [
        { exitCode: undefined, spawnError: "spawn ip ENOENT" },
        "runtime-failure",
        /cannot run ip: spawn ip ENOENT.*guest image/,
      ],
    ];
    for (const [over, kind, message] of cases) {
      expect(() => ensureOk(result(over), "set link")).toThrow(
        expect.objectContaining({ kind, message: expect.stringMatching(message) }),
      );
    }
  });
});
