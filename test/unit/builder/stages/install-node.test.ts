// The checks behind `kata-build rootfs --node`: which libraries a binary needs (from ldd's
// output) and which of them a root filesystem lacks, looked up through the root's own symlinks.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { missingLibraries } from "../../../../builder/src/stages/install-node.js";
import { parseLdd } from "../../../../builder/src/tools/ldd.js";

const LDD = `\tlinux-vdso.so.1 (0x00007ffd1c3f2000)
\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007f1)
\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f2)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f3)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f4)
`;

describe("parseLdd", () => {
  it("lists sonames and the loader, not the vdso", () => {
    expect(parseLdd(LDD)).toEqual({
      sonames: ["libdl.so.2", "libstdc++.so.6", "libc.so.6"],
      loader: "/lib64/ld-linux-x86-64.so.2",
    });
  });
});

describe.runIf(process.arch === "x64")("missingLibraries", () => {
  const root = mkdtempSync(join(tmpdir(), "kb-node-root-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("finds libraries through the root's merged-/usr symlinks and names the ones it lacks", async () => {
    mkdirSync(join(root, "usr/lib/x86_64-linux-gnu"), { recursive: true });
    mkdirSync(join(root, "usr/lib64"), { recursive: true });
    // Absolute link targets mean the root's /usr, never the host's.
    symlinkSync("/usr/lib", join(root, "lib"));
    symlinkSync("usr/lib64", join(root, "lib64"));
    for (const lib of ["libdl.so.2", "libc.so.6"])
      writeFileSync(join(root, "usr/lib/x86_64-linux-gnu", lib), "");
    writeFileSync(join(root, "usr/lib64/ld-linux-x86-64.so.2"), "");
    expect(await missingLibraries(root, LDD)).toEqual(["libstdc++.so.6"]);
    writeFileSync(join(root, "usr/lib/x86_64-linux-gnu/libstdc++.so.6"), "");
    expect(await missingLibraries(root, LDD)).toEqual([]);
    rmSync(join(root, "usr/lib64/ld-linux-x86-64.so.2"));
    expect(await missingLibraries(root, LDD)).toEqual(["/lib64/ld-linux-x86-64.so.2"]);
  });
});
