// kata-build's command line: the conventions every command follows (--version, --help,
// "did you mean", exit 2 for usage errors and 1 for failures, --json as one document, progress
// on stderr in colour only on a terminal), kata-build.toml with profiles under the flags, and
// cache list|clean on a scratch cache.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureAgentBuilt, ensureBuilderBundle } from "../../helpers/builder-agent.js";
import { smallBaseTar } from "../../helpers/small-guest.js";

let cli: string;
const work = () => mkdtempSync(path.join(tmpdir(), "kata-build-cli-"));
const kataBuild = (args: string[], env: Record<string, string> = {}) =>
  execa(process.execPath, [cli, ...args], {
    reject: false,
    stripFinalNewline: false,
    env: { NO_COLOR: "", ...env },
  });
/** kata-build on a pseudo-terminal (util-linux script): stderr and stdout arrive together. */
const onTerminal = (args: string[], env: Record<string, string> = {}) =>
  execa("script", ["-qec", [process.execPath, cli, ...args].map((w) => `'${w}'`).join(" "), "/dev/null"], {
    reject: false,
    env: { TERM: "xterm", NO_COLOR: "", ...env },
  });

let guestRoot: string;
beforeAll(async () => {
  ensureAgentBuilt();
  cli = ensureBuilderBundle();
  const out = work();
  const built = await kataBuild([
    "rootfs",
    "--distro",
    "debian",
    "--from-tar",
    smallBaseTar(),
    "--agent-init",
    "--out",
    out,
    "--json",
    "-q",
  ]);
  expect(built.stderr).toBe("");
  guestRoot = JSON.parse(built.stdout).root;
}, 120_000);

const COMMANDS = ["rootfs", "image", "initrd", "kernel", "boot", "vm", "runtime-config", "cache"];

describe("conventions", () => {
  it("prints its version and every command's help", async () => {
    expect((await kataBuild(["--version"])).stdout).toMatch(/^kata-build \d+\.\d+\.\d+ \(node v\d+/);
    const main = await kataBuild(["--help"]);
    for (const command of COMMANDS) {
      expect(main.stdout).toContain(`  ${command} `);
      for (const flag of ["--help", "-h"]) {
        const help = await kataBuild([command, flag]);
        expect(help.exitCode, `${command} ${flag}`).toBe(0);
        expect(help.stdout).toMatch(new RegExp(`^Usage: kata-build ${command}`));
        expect(help.stdout).toContain("--json");
      }
    }
    expect((await kataBuild(["help", "image"])).stdout).toMatch(/^Usage: kata-build image/);
  });

  it("exits 2 on a usage error with what was meant, 1 on a failure with what to do", async () => {
    const typo = await kataBuild(["imgae"]);
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toBe(
      "kata-build: error: unknown command 'imgae' (did you mean 'image'?)\n  run 'kata-build --help'\n",
    );
    const flag = await kataBuild(["image", "--rootfs", guestRoot, "--veirty"]);
    expect(flag.exitCode).toBe(2);
    expect(flag.stderr).toContain("unknown option '--veirty' (did you mean '--verity'?)");
    const choice = await kataBuild(["image", "--fs", "erfos"]);
    expect(choice.exitCode).toBe(2);
    expect(choice.stderr).toContain("'erfos' is not one of ext4, erofs (did you mean 'erofs'?)");
    expect((await kataBuild([])).exitCode).toBe(2);
    const failed = await kataBuild(["image", "--rootfs", "/nonexistent", "--out", work()]);
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toContain(
      "kata-build image: error: root filesystem /nonexistent does not exist\n  build one with `kata-build rootfs`",
    );
  });

  it("prints one JSON document on stdout with --json, progress on stderr, errors as JSON too", async () => {
    const out = work();
    const runs: [string, string[]][] = [
      ["image", ["image", "--rootfs", guestRoot, "--out", out]],
      ["initrd", ["initrd", "--rootfs", guestRoot, "--out", out, "--compression", "none"]],
      ["cache list", ["cache", "list", "--cache", work()]],
      ["cache clean", ["cache", "clean", "--all", "--cache", work()]],
    ];
    for (const [what, args] of runs) {
      const r = await kataBuild([...args, "--json"]);
      expect(r.exitCode, what).toBe(0);
      expect(() => JSON.parse(r.stdout), what).not.toThrow();
      expect(r.stdout.trim().startsWith("{"), what).toBe(true);
    }
    const image = await kataBuild(["image", "--rootfs", guestRoot, "--out", out, "--json"]);
    expect(JSON.parse(image.stdout)).toMatchObject({ image: path.join(out, "kata-containers.img") });
    expect(image.stderr).toContain("==> Make ext4 filesystem");
    const failed = await kataBuild(["initrd", "--rootfs", "/nonexistent", "--json", "--out", out]);
    expect(failed.exitCode).toBe(1);
    expect(JSON.parse(failed.stdout)).toEqual({
      error: {
        message: "root filesystem /nonexistent does not exist",
        hint: "build one with `kata-build rootfs`",
        usage: false,
      },
    });
    // Without --json the results are text on stdout; --quiet leaves stderr empty.
    const text = await kataBuild(["initrd", "--rootfs", guestRoot, "--out", out, "-q"]);
    expect(text.stdout).toBe(`initrd: ${path.join(out, "kata-containers-initrd.img")}\n`);
    expect(text.stderr).toBe("");
  }, 180_000);

  it("colours progress and errors only on a terminal, and never with NO_COLOR", async () => {
    const out = work();
    const coloured = await onTerminal([
      "initrd",
      "--rootfs",
      guestRoot,
      "--out",
      out,
      "--compression",
      "none",
    ]);
    expect(coloured.stdout).toContain("\x1b[1m\x1b[36m==>");
    const plain = await onTerminal(["initrd", "--rootfs", guestRoot, "--out", out, "--compression", "none"], {
      NO_COLOR: "1",
    });
    expect(plain.stdout).toContain("==> Load root filesystem");
    expect(plain.stdout).not.toContain("\x1b[");
    expect((await kataBuild(["imgae"])).stderr).not.toContain("\x1b[");
    expect((await onTerminal(["imgae"])).stdout).toContain("\x1b[31m");
  }, 120_000);
});

describe("kata-build.toml", () => {
  it("supplies settings by command and profile, and flags win", async () => {
    const dir = work();
    const config = path.join(dir, "kata-build.toml");
    writeFileSync(
      config,
      ["[image]", 'fs = "erofs"', 'out = "images"', "", "[profiles.verity.image]", "verity = true", ""].join(
        "\n",
      ),
    );
    const fromFile = await kataBuild(["--config", config, "image", "--rootfs", guestRoot, "--json", "-q"]);
    expect(fromFile.stderr).toBe("");
    const a = JSON.parse(fromFile.stdout);
    // out is relative to the file's directory.
    expect(a.image).toBe(path.join(dir, "images", "kata-containers.img"));
    expect(JSON.parse(readFileSync(a.manifest, "utf8")).inputs).toMatchObject({ fs: "erofs", verity: false });
    const profile = await kataBuild([
      "image",
      "--config",
      config,
      "--config-profile",
      "verity",
      "--rootfs",
      guestRoot,
      "--json",
      "-q",
    ]);
    expect(JSON.parse(profile.stdout).verity).toBeDefined();
    const flags = await kataBuild([
      "--config",
      config,
      "--config-profile",
      "verity",
      "image",
      "--fs",
      "ext4",
      "--rootfs",
      guestRoot,
      "--json",
      "-q",
    ]);
    const c = JSON.parse(flags.stdout);
    expect(JSON.parse(readFileSync(c.manifest, "utf8")).inputs).toMatchObject({ fs: "ext4", verity: true });
  }, 180_000);

  it("refuses an unknown key, naming it and the file", async () => {
    const config = path.join(work(), "kata-build.toml");
    writeFileSync(config, '[initrd]\ncompresion = "gzip"\n');
    const r = await kataBuild(["initrd", "--config", config, "--rootfs", guestRoot]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(
      `unknown key 'compresion' in [initrd] of ${config} (did you mean 'compression'?)`,
    );
    const orphan = await kataBuild(["initrd", "--config-profile", "x"]);
    expect(orphan.stderr).toContain("--config-profile needs --config FILE");
  });
});

describe("kata-build cache", () => {
  /** A scratch cache laid out as the builds lay theirs out. */
  function scratchCache(): string {
    const cache = work();
    const file = (rel: string, bytes: number) => {
      mkdirSync(path.dirname(path.join(cache, rel)), { recursive: true });
      writeFileSync(path.join(cache, rel), Buffer.alloc(bytes, 1));
    };
    file("debian/debs/busybox.deb", 40_000);
    file("debian/base/0123456789abcdef01234567/root/bin/sh", 8192);
    file("kernel/sources/abcd/linux/Makefile", 4096);
    file("kernel/objects/abcd-x86_64-kvm/vmlinux.o", 100_000);
    file("kernel/kernels/k1/bzImage", 20_000);
    file("guests/debian-k2/rootfs.manifest.json", 100);
    return cache;
  }

  it("lists every entry by kind with its size", async () => {
    const cache = scratchCache();
    const r = await kataBuild(["cache", "list", "--cache", cache, "--json"]);
    const listing = JSON.parse(r.stdout) as {
      entries: { kind: string; name: string; bytes: number }[];
      totals: Record<string, number>;
    };
    expect(listing.entries.map((e) => [e.kind, e.name])).toEqual([
      ["packages", "debian/debs"],
      ["base-trees", "debian/base/0123456789abcdef01234567"],
      ["kernel-sources", "kernel/sources/abcd"],
      ["kernel-objects", "kernel/objects/abcd-x86_64-kvm"],
      ["kernels", "kernel/kernels/k1"],
      ["guests", "guests/debian-k2"],
    ]);
    expect(listing.totals["kernel-objects"]).toBeGreaterThanOrEqual(100_000);
    const text = await kataBuild(["cache", "list", "--cache", cache]);
    expect(text.stdout).toMatch(new RegExp(`^${cache}: [\\d.]+ [kMG]B in 6 entries\\n`));
  });

  it("cleans the kinds named, keeps what a running build holds, and asks before cleaning everything", async () => {
    const cache = scratchCache();
    // A live lock (this process) inside the object tree: a build is using it.
    mkdirSync(path.join(cache, "kernel/objects/abcd-x86_64-kvm.lock"));
    writeFileSync(path.join(cache, "kernel/objects/abcd-x86_64-kvm.lock/pid"), String(process.pid));
    const dry = JSON.parse(
      (await kataBuild(["cache", "clean", "kernels", "--dry-run", "--cache", cache, "--json"])).stdout,
    );
    expect(dry).toMatchObject({ removed: ["kernel/kernels/k1"], dryRun: true });
    const cleaned = JSON.parse(
      (await kataBuild(["cache", "clean", "kernel-objects", "--kind", "kernels", "--cache", cache, "--json"]))
        .stdout,
    );
    expect(cleaned.removed).toEqual(["kernel/kernels/k1"]);
    expect(cleaned.busy).toEqual([{ name: "kernel/objects/abcd-x86_64-kvm", pid: process.pid }]);
    const after = JSON.parse((await kataBuild(["cache", "list", "--cache", cache, "--json"])).stdout);
    expect(after.entries.map((e: { kind: string }) => e.kind)).not.toContain("kernels");
    const young = JSON.parse(
      (await kataBuild(["cache", "clean", "--all", "--older-than", "1d", "--cache", cache, "--json"])).stdout,
    );
    expect(young.removed).toEqual([]);
    const unasked = await kataBuild(["cache", "clean", "--cache", cache]);
    expect(unasked.exitCode).toBe(2);
    expect(unasked.stderr).toContain("say what to clean");
    const typo = await kataBuild(["cache", "clean", "kernel", "--cache", cache]);
    expect(typo.stderr).toContain("unknown cache kind 'kernel' (did you mean 'kernels'?)");
  });
});
