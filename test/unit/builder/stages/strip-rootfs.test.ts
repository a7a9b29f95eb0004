// strip-rootfs: the lists are data, '*' matches within one segment through the root's own
// links (merged /usr), and the package manager's tools go only with the package database.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { With } from "../../../../builder/src/context.js";
import type { Distro } from "../../../../builder/src/distro/types.js";
import {
  expandPattern,
  matchSegment,
  stripPatterns,
  stripRootfs,
} from "../../../../builder/src/stages/strip-rootfs.js";
import { Progress } from "../../../../builder/src/util/progress.js";

function makeRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "kb-strip-"));
  for (const d of [
    "usr/lib/x86_64-linux-gnu/gconv",
    "usr/lib/x86_64-linux-gnu/perl-base",
    "usr/bin",
    "usr/share/doc/x",
    "var/lib/dpkg",
    "var",
  ]) {
    mkdirSync(join(root, d), { recursive: true });
  }
  symlinkSync("usr/lib", join(root, "lib"));
  for (const f of [
    "usr/lib/x86_64-linux-gnu/gconv/UTF-16.so",
    "usr/lib/x86_64-linux-gnu/libcrun.a",
    "usr/lib/x86_64-linux-gnu/libcrun.so.1",
    "usr/bin/perl",
    "usr/bin/perl5.36.0",
    "usr/bin/dpkg",
    "usr/bin/dpkg-query",
    "usr/bin/node",
    "usr/share/doc/x/README",
  ]) {
    writeFileSync(join(root, f), "x");
  }
  return root;
}

function makeData(): string {
  const data = mkdtempSync(join(tmpdir(), "kb-strip-data-"));
  mkdirSync(join(data, "common"));
  mkdirSync(join(data, "deb"));
  writeFileSync(join(data, "common", "strip.txt"), "# docs\nusr/share/doc/*\n");
  writeFileSync(join(data, "deb", "strip.txt"), "lib/*-linux-gnu/gconv\nusr/lib/*-linux-gnu/*.a\n");
  writeFileSync(
    join(data, "deb", "strip-package-manager.txt"),
    "usr/bin/dpkg\nusr/bin/dpkg-*\nusr/bin/perl*\n",
  );
  return data;
}

const ctx = (data: string, root: string): With<"data" | "root" | "distro"> => ({
  manifest: {},
  artifacts: [],
  epoch: 0,
  progress: new Progress({ quiet: true }),
  data,
  root,
  // Only the name and the package database paths matter to this stage.
  distro: { name: "deb", packageDbPaths: ["var/lib/dpkg"] } as unknown as Distro,
});

describe("strip-rootfs", () => {
  it("matches '*' within one segment", () => {
    expect(matchSegment("*-linux-gnu", "x86_64-linux-gnu")).toBe(true);
    expect(matchSegment("perl5.*", "perl5.36.0")).toBe(true);
    expect(matchSegment("*.a", "libcrun.a")).toBe(true);
    expect(matchSegment("*.a", "libcrun.so")).toBe(false);
    expect(matchSegment("dpkg-*", "dpkg")).toBe(false);
    expect(matchSegment("a.b", "axb")).toBe(false);
  });

  it("expands patterns inside the root, following its links", async () => {
    const root = makeRoot();
    expect(await expandPattern(root, "lib/*-linux-gnu/gconv")).toEqual(["/lib/x86_64-linux-gnu/gconv"]);
    expect(await expandPattern(root, "usr/bin/dpkg-*")).toEqual(["/usr/bin/dpkg-query"]);
    expect(await expandPattern(root, "usr/share/doc/*")).toEqual(["/usr/share/doc/x"]);
    expect(await expandPattern(root, "nowhere/*")).toEqual([]);
    expect(await expandPattern(root, "usr/bin/none")).toEqual(["/usr/bin/none"]);
  });

  it("removes the package manager's tools only with the package database", async () => {
    const data = makeData();
    const db = ["var/lib/dpkg"];
    expect(await stripPatterns(data, "deb", db, true)).toEqual([
      "usr/share/doc/*",
      "lib/*-linux-gnu/gconv",
      "usr/lib/*-linux-gnu/*.a",
    ]);
    expect(await stripPatterns(data, "other", db, false)).toEqual(["usr/share/doc/*", "var/lib/dpkg"]);

    const kept = makeRoot();
    await stripRootfs(ctx(data, kept), { keepPackageDb: true });
    expect(existsSync(join(kept, "usr/bin/perl"))).toBe(true);
    expect(existsSync(join(kept, "usr/lib/x86_64-linux-gnu/gconv"))).toBe(false);
    expect(existsSync(join(kept, "usr/lib/x86_64-linux-gnu/libcrun.a"))).toBe(false);
    expect(existsSync(join(kept, "usr/lib/x86_64-linux-gnu/libcrun.so.1"))).toBe(true);
    expect(readdirSync(join(kept, "usr/share/doc"))).toEqual([]);

    const stripped = makeRoot();
    await stripRootfs(ctx(data, stripped), { keepPackageDb: false });
    expect(readdirSync(join(stripped, "usr/bin"))).toEqual(["node"]);
    expect(existsSync(join(stripped, "var/lib/dpkg"))).toBe(false);
  });
});
