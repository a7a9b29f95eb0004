import { describe, expect, it } from "vitest";
import { Exposition, formatValue } from "../../../../../agent/src/guest/metrics/exposition.js";

describe("Exposition", () => {
  it("writes HELP and TYPE once per family, then its samples, and leaves out empty families", () => {
    const out = new Exposition();
    const count = out.family("x_count", "counter", "How many.");
    out.family("x_empty", "gauge", "Never set.");
    const g = out.family("x_gauge", "gauge", "Items.");
    count(3);
    g(1.5, { item: "a" });
    g(-2, { item: "b", cpu: "0" });
    expect(out.toString()).toBe(
      [
        "# HELP x_count How many.",
        "# TYPE x_count counter",
        "x_count 3",
        "# HELP x_gauge Items.",
        "# TYPE x_gauge gauge",
        'x_gauge{item="a"} 1.5',
        'x_gauge{item="b",cpu="0"} -2',
        "",
      ].join("\n"),
    );
  });

  it("escapes help text and label values as the format requires", () => {
    const out = new Exposition();
    out.family("x", "gauge", "back\\slash\nnewline")(1, { mount: 'a "b"\\c\nd' });
    expect(out.toString()).toBe(
      '# HELP x back\\\\slash\\nnewline\n# TYPE x gauge\nx{mount="a \\"b\\"\\\\c\\nd"} 1\n',
    );
  });

  it("refuses invalid names and duplicate families", () => {
    const out = new Exposition();
    expect(() => out.family("1bad", "gauge", "")).toThrow(/invalid metric name/);
    out.family("ok", "gauge", "");
    expect(() => out.family("ok", "gauge", "")).toThrow(/declared twice/);
    expect(() => out.family("ok2", "gauge", "")(1, { "bad-label": "x" })).toThrow(/invalid label name/);
  });

  it("formats special values the Prometheus way", () => {
    expect([NaN, Infinity, -Infinity, 0, 1e21, 123456789012].map(formatValue)).toEqual([
      "NaN",
      "+Inf",
      "-Inf",
      "0",
      "1e+21",
      "123456789012",
    ]);
  });
});
