import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import {
  cacheLayout,
  kernelKey,
  objectDirName,
  RECIPE,
  withLock,
} from "../../../../builder/src/kernel/cache.js";

const dir = mkdtempSync(join(tmpdir(), "kata-kernel-cache-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("kernel cache keys", () => {
  const parts = { sourceSha256: "1".repeat(64), mergedConfigSha256: "2".repeat(64), arch: "x86_64" };

  it("depends on the source, the merged config, the architecture and the recipe, and nothing else", () => {
    const key = kernelKey(parts);
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(kernelKey({ ...parts })).toBe(key);
    expect(kernelKey({ ...parts, recipe: RECIPE })).toBe(key);
    expect(kernelKey({ ...parts, sourceSha256: "3".repeat(64) })).not.toBe(key);
    expect(kernelKey({ ...parts, mergedConfigSha256: "3".repeat(64) })).not.toBe(key);
    expect(kernelKey({ ...parts, arch: "arm64" })).not.toBe(key);
    expect(kernelKey({ ...parts, recipe: `${RECIPE} v2` })).not.toBe(key);
  });

  it("lays the cache out under <cache>/kernel and names object dirs safely", () => {
    expect(cacheLayout("/c").kernels).toBe("/c/kernel/kernels");
    expect(objectDirName("abcdef0123456789ffff", "x86_64", "kvm+tun/x")).toBe(
      "abcdef0123456789-x86_64-kvm+tun_x",
    );
  });
});

describe("withLock", () => {
  it("serializes holders and removes the lock file afterwards", async () => {
    const lock = join(dir, "a.lock");
    const order: string[] = [];
    await Promise.all([
      withLock(lock, async () => {
        order.push("first in");
        await sleep(300);
        order.push("first out");
      }),
      (async () => {
        await sleep(50);
        await withLock(lock, async () => {
          order.push("second in");
        });
      })(),
    ]);
    expect(order).toEqual(["first in", "first out", "second in"]);
    expect(existsSync(lock)).toBe(false);
  });

  it("takes over a lock whose holder has exited", async () => {
    const lock = join(dir, "stale.lock");
    mkdirSync(lock);
    writeFileSync(join(lock, "pid"), "999999999");
    const seen = await withLock(lock, async () => readFileSync(join(lock, "pid"), "utf8"));
    expect(seen).toBe(String(process.pid));
  });
});
