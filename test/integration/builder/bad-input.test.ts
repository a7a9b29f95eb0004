// kata-build (the real CLI bundle) given bad input: every failure exits non-zero with a message
// and no stack trace, leaves no staging directory and no output directory it created; options
// are checked before work starts; the outputs of one build replace the previous build's as a set.
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilderBundle, repo } from "../../helpers/builder-agent.js";

let kataBuild: string;
const cleanup: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanup) c();
});
let dir: string;
let good: string;

/** A small root that image and initrd accept. */
function makeRoot(): string {
  const root = join(dir, "root");
  for (const d of ["sbin", "usr/bin", "etc"]) mkdirSync(join(root, d), { recursive: true });
  // The agent as init, as `kata-build rootfs --agent-init` lays it out.
  writeFileSync(join(root, "usr/bin/kata-agent"), "#!/bin/sh\n");
  chmodSync(join(root, "usr/bin/kata-agent"), 0o755);
  symlinkSync("../usr/bin/kata-agent", join(root, "sbin/init"));
  writeFileSync(join(root, "etc/big"), Buffer.alloc(256 * 1024, 7));
  return root;
}

async function packed(
  entries: { header: Partial<tar.Header> & { name: string }; body?: string }[],
): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) pack.entry(e.header, e.body ?? "");
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

function kb(args: string[]): { status: number | null; stderr: string; stdout: string; ms: number } {
  const started = Date.now();
  const r = spawnSync("node", [kataBuild, ...args], { encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout, ms: Date.now() - started };
}

/** A failure as a user should see it: one error line (with a hint perhaps), no stack. */
function expectMessage(r: ReturnType<typeof kb>, pattern: RegExp): void {
  expect(r.status, r.stderr).toBe(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

/** Nothing but `keep` in `parent`: no staging directory, no output directory. */
function expectClean(parent: string, keep: string[] = []): void {
  expect(readdirSync(parent).filter((n) => !keep.includes(n))).toEqual([]);
}

beforeAll(() => {
  kataBuild = ensureBuilderBundle();
  dir = mkdtempSync(join(tmpdir(), "kb-bad-"));
  const root = makeRoot();
  good = join(dir, "good.tar");
  execFileSync("tar", ["-C", root, "-cf", good, "."]);
});

describe("kata-build with bad tarballs", () => {
  const cases: [string, () => Promise<Buffer> | Buffer, RegExp][] = [
    ["zero bytes", () => Buffer.alloc(0), /the file is empty \(0 bytes\)/],
    [
      "garbage",
      () => Buffer.from("not a tar archive at all\n".repeat(100)),
      /not a tar archive, or it is corrupt/,
    ],
    [
      "cut in the middle of a file",
      () => readFileSync(good).subarray(0, 100_000),
      /ends in the middle \(in \/etc\/big\): it is truncated/,
    ],
    [
      "cut at a member boundary",
      // etc/ and etc/a (header and one block of data), without the two blocks that end an archive.
      async () =>
        (
          await packed([
            { header: { name: "etc", type: "directory" } },
            { header: { name: "etc/a", type: "file" }, body: "x" },
          ])
        ).subarray(0, 1536),
      /no end-of-archive marker: it is truncated/,
    ],
    [
      "a member escaping by ..",
      () => packed([{ header: { name: "../escape", type: "file" }, body: "x" }]),
      /tar member "..\/escape" escapes the root/,
    ],
    [
      "a member written through a symlink out of the root",
      () =>
        packed([
          { header: { name: "out", type: "symlink", linkname: "/etc" } },
          { header: { name: "out/passwd", type: "file" }, body: "x" },
        ]),
      /member \/out\/passwd lies under non-directory \/out \(a symlink\)/,
    ],
    [
      "a hard link to a file outside",
      () => packed([{ header: { name: "pw", type: "link", linkname: "../../etc/passwd" } }]),
      /escapes the root/,
    ],
  ];

  for (const [what, make, pattern] of cases)
    it(`fails with a message for ${what}, in image, initrd and rootfs --from-tar, leaving nothing`, async () => {
      const parent = mkdtempSync(join(dir, "case-"));
      const file = join(parent, "input.tar");
      writeFileSync(file, await make());
      for (const args of [
        ["image", "--rootfs", file, "--out", join(parent, "out", "image")],
        ["initrd", "--rootfs", file, "--out", join(parent, "out", "initrd")],
        ["rootfs", "--distro", "debian", "--from-tar", file, "--out", join(parent, "out", "rootfs")],
      ]) {
        const r = kb(args);
        expectMessage(r, pattern);
        expectClean(parent, ["input.tar"]);
      }
    });

  it("names a truncated gzip and a GNU sparse member", async () => {
    const parent = mkdtempSync(join(dir, "case-"));
    execFileSync("gzip", ["-k", good], { cwd: dir });
    writeFileSync(join(parent, "cut.tar.gz"), readFileSync(`${good}.gz`).subarray(0, 200));
    expectMessage(
      kb(["image", "--rootfs", join(parent, "cut.tar.gz"), "--out", join(parent, "o")]),
      /truncated/,
    );
    const root = mkdtempSync(join(dir, "sparse-"));
    execFileSync("truncate", ["-s", "8M", join(root, "holes")]);
    execFileSync("tar", ["--sparse", "-C", root, "-cf", join(parent, "sparse.tar"), "."]);
    expectMessage(
      kb(["image", "--rootfs", join(parent, "sparse.tar"), "--out", join(parent, "o")]),
      /member \/holes is .*which this reader cannot unpack[\s\S]*without --sparse/,
    );
    expectClean(parent, ["cut.tar.gz", "sparse.tar"]);
  });
});

describe("kata-build options checked before work starts", () => {
  it("range-checks --level per compressor", () => {
    const parent = mkdtempSync(join(dir, "level-"));
    const out = join(parent, "o");
    expectMessage(
      kb(["initrd", "--rootfs", good, "--level", "30", "--out", out]),
      /--level 30 is out of range for zstd: it takes 1 to 22/,
    );
    expectMessage(
      kb(["initrd", "--rootfs", good, "--compression", "gzip", "--level", "0", "--out", out]),
      /it takes 1 to 9/,
    );
    expectMessage(
      kb(["initrd", "--rootfs", good, "--compression", "none", "--level", "3", "--out", out]),
      /means nothing with --compression none/,
    );
    expectClean(parent);
    const ok = kb(["initrd", "--rootfs", good, "--compression", "gzip", "--level", "1", "--out", out, "-q"]);
    expect(ok.status, ok.stderr).toBe(0);
  });

  it("checks rootfs --node before the bootstrap starts", () => {
    const parent = mkdtempSync(join(dir, "node-"));
    const notNode = join(parent, "node");
    writeFileSync(notNode, "#!/bin/sh\necho v8.0.0\n");
    chmodSync(notNode, 0o755);
    for (const [node, pattern] of [
      [join(parent, "missing"), /--node .*missing: no such file/],
      [notNode, /is Node.js v8.0.0; the agent needs 18 or later/],
    ] as const) {
      const r = kb(["rootfs", "--distro", "debian", "--node", node, "--out", join(parent, "o")]);
      expectMessage(r, pattern);
      expect(r.stderr).not.toMatch(/Install packages/);
      expect(r.ms).toBeLessThan(20_000);
    }
    expectClean(parent, ["node"]);
  });
});

describe("kata-build outputs", () => {
  it("replaces the outputs of the previous build as a set: no stale root_hash.txt after a build without --verity", () => {
    const out = join(mkdtempSync(join(dir, "set-")), "o");
    const withVerity = kb(["image", "--rootfs", good, "--verity", "--out", out, "-q"]);
    expect(withVerity.status, withVerity.stderr).toBe(0);
    expect(existsSync(join(out, "kata-containers.img.root_hash.txt"))).toBe(true);
    const without = kb(["image", "--rootfs", good, "--out", out, "-q"]);
    expect(without.status, without.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      "kata-containers.img",
      "kata-containers.img.cmdline",
      "kata-containers.img.manifest.json",
    ]);
    // A file of someone else's in the directory stays.
    writeFileSync(join(out, "notes.txt"), "mine\n");
    expect(kb(["image", "--rootfs", good, "--verity", "--out", out, "-q"]).status).toBe(0);
    expect(readdirSync(out)).toContain("notes.txt");
  });

  it("ends a command that stops waiting on nothing with a message and status 70, not 0", async () => {
    // The real entry's guard around a command whose promise never settles (what a stalled
    // extraction did): the event loop runs dry, and kata-build must say so.
    // Beside the bundle, so that its packages resolve from the repository's node_modules.
    const script = join(repo, "builder", "dist", `.stalled-${process.pid}.mjs`);
    await build({
      stdin: {
        contents: `import { run } from "./builder/src/cli.ts";\nrun([], () => new Promise(() => {})).then((c) => { process.exitCode = c; });\n`,
        resolveDir: repo,
        loader: "ts",
      },
      bundle: true,
      platform: "node",
      format: "esm",
      outfile: script,
      packages: "external",
      logLevel: "silent",
    });
    cleanup.push(() => rmSync(script, { force: true }));
    const r = spawnSync("node", [script], { encoding: "utf8", cwd: repo, timeout: 30_000 });
    expect(r.status, r.stderr).toBe(70);
    expect(r.stderr).toMatch(/internal error: the command stopped waiting for work that will never finish/);
  });
});
