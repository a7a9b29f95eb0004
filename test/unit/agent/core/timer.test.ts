// Delays from request fields: past a timer's range they mean "no deadline".
import { describe, expect, it } from "vitest";
import { MAX_TIMER_MS, timerDelay } from "../../../../agent/src/core/timer.js";

describe("timerDelay", () => {
  it("passes delays a timer can hold", () => {
    expect(timerDelay(1)).toBe(1);
    expect(timerDelay(0.5)).toBe(0.5);
    expect(timerDelay(MAX_TIMER_MS)).toBe(MAX_TIMER_MS);
  });

  it("gives no timer for none, nonsense, or more than 2^31-1 ms", () => {
    for (const ms of [0, -1, Number.NaN, MAX_TIMER_MS + 1, 2 ** 32 * 1000, Number.POSITIVE_INFINITY]) {
      expect(timerDelay(ms)).toBeUndefined();
    }
  });

  it("agrees with what setTimeout really does at the limit", async () => {
    // Node fires an over-long timer after 1 ms (with a warning): the fault timerDelay avoids.
    const fired = await new Promise<boolean>((resolve) => {
      const warn = process.emitWarning;
      process.emitWarning = () => {};
      const t = setTimeout(() => resolve(true), MAX_TIMER_MS + 1);
      process.emitWarning = warn;
      setTimeout(() => {
        clearTimeout(t);
        resolve(false);
      }, 50);
    });
    expect(fired).toBe(true);
  });
});
