import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Iptables, iptablesTool } from "../../../../agent/src/tools/iptables.js";
import { stdoutText } from "../../../../agent/src/tools/run.js";

const dir = mkdtempSync(join(tmpdir(), "kata-iptables-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in program that prints its name, its arguments and its stdin. */
function fake(sub: string, tool: string): void {
  mkdirSync(join(dir, sub), { recursive: true });
  const file = join(dir, sub, tool);
  writeFileSync(file, `#!/bin/sh\necho "${tool} $*"\ncat\n`);
  chmodSync(file, 0o755);
}

describe("Iptables", () => {
  it("names the four tools", () => {
    expect(iptablesTool("save", false)).toBe("iptables-save");
    expect(iptablesTool("restore", true)).toBe("ip6tables-restore");
  });

  it("looks in its directories in order", () => {
    fake("first", "iptables-save");
    fake("second", "iptables-save");
    fake("second", "ip6tables-save");
    const t = new Iptables([join(dir, "missing"), join(dir, "first"), join(dir, "second")]);
    expect(t.locate("save", false)).toBe(join(dir, "first", "iptables-save"));
    expect(t.locate("save", true)).toBe(join(dir, "second", "ip6tables-save"));
  });

  it("says where it looked when the tool is missing", () => {
    const t = new Iptables([join(dir, "nowhere"), join(dir, "neither")]);
    expect(() => t.locate("restore", true)).toThrow(
      expect.objectContaining({
        kind: "runtime-failure",
        message: expect.stringMatching(
          /ip6tables-restore not found in .*nowhere or .*neither: install iptables/,
        ),
      }),
    );
  });

  it("restores with --wait 5 and the rules on stdin", async () => {
    fake("bin", "iptables-restore");
    const r = await new Iptables([join(dir, "bin")]).restore(
      false,
      new TextEncoder().encode("*filter\nCOMMIT\n"),
    );
    expect(r.exitCode).toBe(0);
    expect(stdoutText(r)).toBe("iptables-restore --wait 5\n*filter\nCOMMIT\n");
  });
});
