import { describe, expect, it } from "vitest";
import {
  defaultCompact,
  defaultMemcg,
  fromParameters,
  merge,
} from "../../../../../agent/src/guest/mem-agent/config.js";

describe("mem-agent configuration", () => {
  it("starts from upstream's defaults and applies agent.mem_agent_* parameters", () => {
    const { memcg, compact } = fromParameters({ memcg_swap: true, memcg_period_secs: 60, compact_order: 4 });
    expect(memcg).toEqual({ ...defaultMemcg, swap: true, periodSecs: 60 });
    expect(compact).toEqual({ ...defaultCompact, compactOrder: 4 });
    expect(defaultCompact.compactForceTimes).toBe(Number.POSITIVE_INFINITY);
  });

  it("names the boot parameter when its value cannot work", () => {
    expect(() => fromParameters({ compact_period_secs: 0 })).toThrow(
      "agent.mem_agent_compact_period_secs must be at least 1 second, not 0",
    );
  });

  it("changes only the fields an RPC sets, takes bigints, and treats u64::MAX as never", () => {
    const next = merge(defaultCompact, {
      periodSecs: 30n,
      compactForceTimes: 18446744073709551615n,
      disabled: undefined,
    });
    expect(next).toEqual({ ...defaultCompact, periodSecs: 30, compactForceTimes: Number.POSITIVE_INFINITY });
  });

  it("refuses impossible values as invalid input naming the proto field", () => {
    expect(() => merge(defaultMemcg, { periodPsiPercentLimit: 101 })).toThrow(
      expect.objectContaining({
        kind: "invalid-input",
        message: "period_psi_percent_limit is a percentage (0-100), not 101",
      }),
    );
    expect(() => merge(defaultMemcg, { periodSecs: 0n })).toThrow(/period_secs must be at least 1 second/);
  });
});
