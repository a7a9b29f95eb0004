import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../../../builder/src/kernel/kconfig/config-file.js";
import { mergedHash, mergeFragments } from "../../../../builder/src/kernel/kconfig/merge.js";
import { kernelManifest, readKernelManifest } from "../../../../builder/src/kernel/manifest.js";
import { writeManifest } from "../../../../builder/src/stages/write-manifest.js";
import { Progress } from "../../../../builder/src/util/progress.js";

const dir = mkdtempSync(join(tmpdir(), "kata-kernel-manifest-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("kernel manifest", () => {
  const fragment = { name: "common/a.conf", path: "/x/a.conf", sha256: "f".repeat(64) };
  const entries = parseConfig("# a\nCONFIG_A=y\n# CONFIG_MODULES is not set\n", "a", true).entries;
  const merged = mergeFragments([{ ...fragment, entries }]);
  const manifest = kernelManifest({
    kind: "kata-guest-kernel",
    version: "6.1.192",
    release: "6.1.192-kata",
    arch: "x86_64",
    hypervisor: "kvm",
    features: ["tun"],
    source: {
      kind: "tarball",
      path: "/c/linux.tar.xz",
      sha256: "1".repeat(64),
      pinned: { version: "6.1.192-debian3", url: "file:///x" },
    },
    fragments: [{ ...fragment, entries }],
    fragmentsSha256: "2".repeat(64),
    merged,
    mergedConfigSha256: mergedHash(merged),
    cacheKey: "k",
    recipe: "r",
    accepted: [
      {
        drop: { symbol: "B", requested: "y", actual: "n", from: "a", absent: true, reason: "not defined" },
        entry: { symbol: "B", when: "absent", reason: "renamed", line: 3 },
      },
    ],
    finalConfigSha256: "3".repeat(64),
    artifacts: [{ name: "bzImage", bytes: 10, sha256: "4".repeat(64) }],
    pvhEntry: "0x1000",
    build: {
      seconds: 400.5,
      cpuSeconds: 780,
      jobs: 2,
      cpus: 2,
      loadAverage: 1.5,
      finishedAt: "2026-11-28T00:00:00.000Z",
    },
  });

  it("records source, fragments, requested options, accepted drops, artifacts and build time", () => {
    expect(manifest.source).toEqual({
      kind: "tarball",
      path: "/c/linux.tar.xz",
      sha256: "1".repeat(64),
      version: "6.1.192-debian3",
      url: "file:///x",
    });
    expect(manifest.fragments).toEqual([{ name: "common/a.conf", sha256: "f".repeat(64) }]);
    expect(manifest.requested).toEqual({ A: "y", MODULES: "n" });
    expect(manifest.acceptedDrops).toEqual([
      { option: "B", requested: "y", why: "not defined", whitelisted: "renamed" },
    ]);
    expect(manifest.build?.seconds).toBe(400.5);
  });

  it("round-trips through manifest.json", async () => {
    const path = join(dir, "manifest.json");
    const staging = { dir, path: (name: string) => join(dir, name) };
    const ctx = { progress: new Progress({ quiet: true }), epoch: 0, manifest: {}, artifacts: [], staging };
    await writeManifest(ctx, { file: "manifest.json", document: () => manifest });
    expect(await readKernelManifest(path)).toEqual(manifest);
    expect(await readKernelManifest(join(dir, "missing.json"))).toBeUndefined();
  });
});
