// builder/src/tools/make.ts against real GNU make, on a tiny Makefile standing in for Kbuild:
// output goes to the log (appended, with a header per run), failures come back as exit codes,
// and the CPU time of everything make ran is measured.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compiledCount, logTail, runMake } from "../../../../builder/src/tools/make.js";
import { writeTree } from "../../../helpers/kernel-fixtures.js";

const src = writeTree({
  Makefile: [
    "all:",
    "\t@echo '  CC      $(O)/a.o'",
    "\t@echo '  CC      $(O)/b.o'",
    // Burn some CPU in a child of make, so the measurement has something to measure.
    "\t@sh -c 'i=0; while [ $$i -lt 300000 ]; do i=$$((i+1)); done'",
    "\t@echo ARCH=$(ARCH) EXTRA=$(EXTRA)",
    "broken:",
    "\t@echo 'error: something broke' >&2; exit 2",
    "",
  ].join("\n"),
});
afterAll(() => rmSync(src, { recursive: true, force: true }));

describe("runMake", () => {
  it("appends output to the log, passes O=, ARCH= and variables, and measures child CPU time", async () => {
    const logPath = join(src, "make.log");
    const result = await runMake({
      srcDir: src,
      objDir: "obj",
      arch: "x86_64",
      targets: ["all"],
      vars: { EXTRA: "1" },
      logPath,
    });
    expect(result).toMatchObject({ ok: true, exitCode: 0, timedOut: false, isCanceled: false, logPath });
    expect(result.cpuSeconds).toBeGreaterThan(0.05);
    expect(result.cpuSeconds).toBeLessThan(result.seconds * 4 + 1);
    const log = readFileSync(logPath, "utf8");
    expect(log).toMatch(/^\n### \S+ make -C \S+ O=obj ARCH=x86_64 EXTRA=1 all$/m);
    expect(log).toContain("ARCH=x86_64 EXTRA=1");
    expect(await compiledCount(logPath)).toEqual({ count: 2, last: "obj/b.o" });
  }, 60_000);

  it("reports a failing target by exit code, keeping stderr in the log for the error message", async () => {
    const logPath = join(src, "broken.log");
    const result = await runMake({
      srcDir: src,
      objDir: "obj",
      arch: "x86_64",
      targets: ["broken"],
      logPath,
    });
    expect(result.ok).toBe(false);
    expect(result.exitCode).toBe(2);
    const tail = await logTail(logPath, 3);
    expect(tail.join("\n")).toContain("error: something broke");
  }, 60_000);
});
