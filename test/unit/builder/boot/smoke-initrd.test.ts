import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { SMOKE_MARKER, writeSmokeInitrd } from "../../../../builder/src/boot/smoke-initrd.js";

const dir = mkdtempSync(join(tmpdir(), "kata-kernel-smoke-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("smoke-test initrd", () => {
  it("is a gzip'd cpio newc archive that GNU cpio lists, with busybox, /dev/console and /init", async () => {
    const path = join(dir, "initrd.gz");
    const size = await writeSmokeInitrd(path);
    expect(size).toBeGreaterThan(500_000);
    const cpio = gunzipSync(readFileSync(path));
    const listing = execFileSync("cpio", ["-itv", "--quiet"], { input: cpio, encoding: "utf8" });
    expect(listing).toMatch(/^crw------- .* 5,\s+1 .* dev\/console$/m);
    expect(listing).toMatch(/^-rwxr-xr-x .* bin\/busybox$/m);
    expect(listing).toMatch(/^lrwxrwxrwx .* bin\/sh -> busybox$/m);
    const init = execFileSync("cpio", ["-i", "--to-stdout", "--quiet", "init"], {
      input: cpio,
      encoding: "utf8",
    });
    expect(init).toContain(SMOKE_MARKER);
    expect(init).toContain("poweroff -f");
  });
});
