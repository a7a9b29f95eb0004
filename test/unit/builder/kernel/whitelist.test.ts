import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Drop } from "../../../../builder/src/kernel/kconfig/explain.js";
import { parseWhitelist, partitionDrops } from "../../../../builder/src/kernel/whitelist.js";
import { defaultKernelDataDir } from "../../../../builder/src/util/paths.js";

const drop = (symbol: string, absent: boolean): Drop => ({
  symbol,
  requested: "y",
  actual: "n",
  from: "x.conf",
  absent,
  reason: absent ? "not defined" : "unmet dependency",
});

describe("whitelist", () => {
  it("parses lines with a mode and a reason, and rejects lines without a reason", () => {
    const entries = parseWhitelist(
      "# comment\n\nCONFIG_A  absent  renamed in 6.9\nCONFIG_B dropped  needs hardware we never emulate\n",
      "w.conf",
    );
    expect(entries).toEqual([
      { symbol: "A", when: "absent", reason: "renamed in 6.9", line: 3 },
      { symbol: "B", when: "dropped", reason: "needs hardware we never emulate", line: 4 },
    ]);
    expect(() => parseWhitelist("CONFIG_A absent\n", "w.conf")).toThrow(/w\.conf:1: expected/);
    expect(() => parseWhitelist("CONFIG_A sometimes because\n", "w.conf")).toThrow(/w\.conf:1/);
  });

  it("accepts 'absent' entries only for options the tree does not define", () => {
    const whitelist = parseWhitelist("CONFIG_A absent renamed\nCONFIG_B dropped fine\n", "w.conf");
    const { accepted, rejected } = partitionDrops(
      [drop("A", true), drop("A", false), drop("B", false), drop("C", true)],
      whitelist,
    );
    expect(accepted.map((a) => `${a.drop.symbol}:${a.drop.absent}`)).toEqual(["A:true", "B:false"]);
    expect(rejected.map((d) => `${d.symbol}:${d.absent}`)).toEqual(["A:false", "C:true"]);
  });

  it("the repository's whitelist parses and gives a reason on every line", () => {
    const path = join(defaultKernelDataDir(), "whitelist.conf");
    const entries = parseWhitelist(readFileSync(path, "utf8"), path);
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) expect(e.reason.split(/\s+/).length).toBeGreaterThanOrEqual(3);
  });
});
