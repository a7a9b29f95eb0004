// The lock between builds sharing a cache: one holder at a time, and a lock left by a process
// that is gone is taken over.
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { withLock } from "../../../../builder/src/workspace/lock.js";

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
    // Which of the two mkdir calls wins is up to the thread pool; what matters is that the
    // holders never overlap.
    const first = events[0]?.[0] === "b" ? "b" : "a";
    const second = first === "a" ? "b" : "a";
    expect(events).toEqual([`${first}+`, `${first}-`, `${second}+`, `${second}-`]);
    expect(waited).toBe(1);
  });

  it("takes over a lock whose owner is gone", async () => {
    const lock = join(mkdtempSync(join(tmpdir(), "kb-lock-")), "lock.d");
    mkdirSync(lock);
    writeFileSync(join(lock, "pid"), "999999999");
    expect(await withLock(lock, async () => "got it", { pollMs: 10 })).toBe("got it");
  });

  it("takes over a lock file left by an older kata-build, and a lock whose owner died before writing its pid", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kb-lock-"));
    writeFileSync(join(dir, "old.lock"), "123");
    expect(await withLock(join(dir, "old.lock"), async () => "file", { pollMs: 10 })).toBe("file");
    mkdirSync(join(dir, "empty.lock"));
    const longAgo = new Date(Date.now() - 60_000);
    utimesSync(join(dir, "empty.lock"), longAgo, longAgo);
    expect(await withLock(join(dir, "empty.lock"), async () => "empty", { pollMs: 10 })).toBe("empty");
  });

  it("never takes a live owner's lock with staleMs Infinity, and tells the waiter who holds it", async () => {
    const lock = join(mkdtempSync(join(tmpdir(), "kb-lock-")), "lock.d");
    mkdirSync(lock);
    writeFileSync(join(lock, "pid"), String(process.ppid));
    const longAgo = new Date(Date.now() - 3600_000);
    utimesSync(lock, longAgo, longAgo);
    const owners: (number | undefined)[] = [];
    const controller = new AbortController();
    const waiting = withLock(lock, async () => "taken", {
      staleMs: Number.POSITIVE_INFINITY,
      pollMs: 10,
      onWait: (owner) => owners.push(owner),
      signal: controller.signal,
    });
    await sleep(100);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: "AbortError" });
    expect(owners).toEqual([process.ppid]);
  });
});
