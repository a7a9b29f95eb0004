import { describe, expect, it } from "vitest";
import {
  conjuncts,
  evaluate,
  firstFalseTerm,
  parseExpr,
  renderExpr,
  type SymbolEnv,
  symbolsOf,
} from "../../../../../builder/src/kernel/kconfig/expr.js";

function env(values: Record<string, string>, types: Record<string, string> = {}): SymbolEnv {
  return {
    value: (n) => values[n],
    type: (n) => types[n] ?? (n in values ? "bool" : undefined),
  };
}

describe("Kconfig expressions", () => {
  it("parses with kconfig's precedence and renders minimal parentheses", () => {
    const e = parseExpr(
      "ACPI && ((X86 && X86_LOCAL_APIC && HYPERVISOR_GUEST) \t|| (ARM64 && !CPU_BIG_ENDIAN))",
    );
    expect(renderExpr(e)).toBe(
      "ACPI && (X86 && X86_LOCAL_APIC && HYPERVISOR_GUEST || ARM64 && !CPU_BIG_ENDIAN)",
    );
    expect(renderExpr(parseExpr("!A = B || C"))).toBe("!A = B || C");
    expect(parseExpr("!A = B")).toEqual({
      kind: "not",
      operand: {
        kind: "compare",
        op: "=",
        left: { kind: "symbol", name: "A" },
        right: { kind: "symbol", name: "B" },
      },
    });
    expect(() => parseExpr("A && (B")).toThrow(/missing '\)'/);
    expect(() => parseExpr("A B")).toThrow(/unexpected 'B'/);
  });

  it("evaluates tristate logic against a .config (absent options are n)", () => {
    const e = env({ A: "y", B: "n", M: "m", MODULES: "y" }, { C: "bool", M: "tristate" });
    expect(evaluate(parseExpr("A && !B"), e)).toBe(2);
    expect(evaluate(parseExpr("A && C"), e)).toBe(0);
    expect(evaluate(parseExpr("A && M"), e)).toBe(1);
    expect(evaluate(parseExpr("!M"), e)).toBe(1);
    expect(evaluate(parseExpr("B || C"), e)).toBe(0);
    expect(evaluate(parseExpr("UNDEFINED"), e)).toBe(0);
    expect(evaluate(parseExpr("y && !n"), e)).toBe(2);
  });

  it("treats m as n when modules are off", () => {
    expect(evaluate(parseExpr("m"), env({ MODULES: "n" }))).toBe(0);
    expect(evaluate(parseExpr("m"), env({ MODULES: "y" }))).toBe(1);
  });

  it("compares numbers numerically and strings as strings", () => {
    const e = env(
      { NR_CPUS: "240", BITS: "0x30", NAME: '"kata"', T: "y" },
      { NR_CPUS: "int", BITS: "hex", NAME: "string" },
    );
    expect(evaluate(parseExpr("NR_CPUS > 64"), e)).toBe(2);
    expect(evaluate(parseExpr("NR_CPUS <= 9"), e)).toBe(0);
    expect(evaluate(parseExpr("BITS = 48"), e)).toBe(2);
    expect(evaluate(parseExpr('NAME = "kata"'), e)).toBe(2);
    expect(evaluate(parseExpr("T != n"), e)).toBe(2);
  });

  it("leaves compiler-probe macros unknown, never false", () => {
    const e = env({ A: "y", B: "n" });
    const probe = parseExpr("A && $(cc-option,-mfoo) && B");
    expect(evaluate(parseExpr("A && $(cc-option,-mfoo)"), e)).toBeNull();
    expect(evaluate(probe, e)).toBe(0);
    expect(renderExpr(firstFalseTerm(probe, e)!)).toBe("B");
    expect(evaluate(parseExpr("A || $(success,false)"), e)).toBe(2);
  });

  it("finds the first false term of a conjunction and lists its symbols", () => {
    const e = env({ NET: "y", INET: "y", IPV6: "n", X: "n", Y: "n" });
    const dep = parseExpr("NET && INET && IPV6 && (X || Y)");
    expect(conjuncts(dep).map((t) => renderExpr(t))).toEqual(["NET", "INET", "IPV6", "X || Y"]);
    expect(renderExpr(firstFalseTerm(dep, e)!)).toBe("IPV6");
    expect(firstFalseTerm(parseExpr("NET && INET"), e)).toBeUndefined();
    expect(symbolsOf(parseExpr("(X || !Y) && X && y"), e)).toEqual(["X", "Y"]);
  });
});
