// Policy regular expressions: RE2's engine, whole-value matches in linear time, and patterns it
// cannot run that way refused when compiled.
import { beforeAll, describe, expect, it } from "vitest";
import { compileRegex, loadRegexEngine } from "../../../../agent/src/policy/regex.js";

beforeAll(loadRegexEngine);

describe("policy regex", () => {
  it("matches the whole value", () => {
    const id = compileRegex("[0-9a-f]{64}");
    expect(id("a".repeat(64))).toBe(true);
    expect(id(`x${"a".repeat(64)}`)).toBe(false);
    expect(compileRegex("(?i)sh|bash")("SH")).toBe(true);
    expect(compileRegex("\\p{L}+")("héllo")).toBe(true);
  });

  it("takes linear time on values that make a backtracking engine explode", () => {
    const nested = compileRegex("(a+)+");
    const started = performance.now();
    expect(nested(`${"a".repeat(100_000)}!`)).toBe(false);
    expect(nested(`${"a".repeat(28)}!`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("refuses backreferences and lookaround", () => {
    expect(() => compileRegex("(a)\\1")).toThrow(/invalid escape sequence/);
    expect(() => compileRegex("a(?=b)")).toThrow(/unsupported Perl syntax/);
  });
});
