// The lock between builds sharing a cache: one holder at a time, and a lock left by a process
// that is gone is taken over.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { withLock } from "../../../../builder/src/util/lock.js";

describe("withLock", () => {
  it("runs holders one after another", async () => {
    const lock = join(mkdtempSync(join(tmpdir(), "kb-lock-")), "lock.d");
    const events: string[] = [];
    let waited = 0;
    const holder = (name: string) =>
      withLock(
        lock,
        async () => {
          events.push(`${name}+`);
          await sleep(50);
          events.push(`${name}-`);
        },
        { pollMs: 10, onWait: () => waited++ },
      );
    await Promise.all([holder("a"), holder("b")]);
    expect(events).toEqual(["a+", "a-", "b+", "b-"]);
    expect(waited).toBe(1);
  });

  it("takes over a lock whose owner is gone", async () => {
    const lock = join(mkdtempSync(join(tmpdir(), "kb-lock-")), "lock.d");
    mkdirSync(lock);
    writeFileSync(join(lock, "pid"), "999999999");
    expect(await withLock(lock, async () => "got it", { pollMs: 10 })).toBe("got it");
  });
});
