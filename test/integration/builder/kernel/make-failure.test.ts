// A failing kernel compile is reported with make's last lines and the path of the full log.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createKernelContext } from "../../../../builder/src/context.js";
import { makeKernel } from "../../../../builder/src/stages/make-kernel.js";
import { BuildError } from "../../../../builder/src/util/errors.js";
import { writeTree } from "../../../helpers/kernel-fixtures.js";

// Stands in for a kernel tree whose compile breaks (e.g. a compiler too new for the tree).
const root = writeTree({
  "linux/Makefile": [
    "vmlinux:",
    "\t@echo '  CC      init/main.o'",
    "\t@echo 'init/main.c:1:1: error: expected declaration' >&2",
    "\t@exit 2",
    "bzImage: vmlinux",
    "",
  ].join("\n"),
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("a failing kernel compile", () => {
  it("throws a BuildError with the log's last lines and where the whole log is", async () => {
    const objDir = join(root, "obj");
    mkdirSync(objDir);
    const ctx = createKernelContext({
      hypervisor: "kvm",
      arch: "x86_64",
      source: "unused",
      cacheDir: root,
      jobs: 1,
    });
    const err = (await makeKernel(ctx, {
      tree: { path: join(root, "linux"), version: "9.9.9" },
      objDir,
    }).catch((e: unknown) => e)) as BuildError;
    expect(err).toBeInstanceOf(BuildError);
    const log = join(objDir, "kata-make.log");
    expect(err.message).toMatch(
      new RegExp(`^kernel build failed \\(exit 2\\) after \\d+s; last lines of ${log}:`),
    );
    expect(err.message).toContain("init/main.c:1:1: error: expected declaration");
    expect(err.hint).toBe(`the whole make output is in ${log}`);
  }, 60_000);
});
