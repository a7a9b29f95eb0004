import { describe, expect, it } from "vitest";
import {
  ConfigSyntaxError,
  configValues,
  formatEntry,
  parseConfig,
  unquote,
} from "../../../../../builder/src/kernel/kconfig/config-file.js";

describe("parseConfig", () => {
  it("reads assignments, 'is not set' lines, the header comment and directives", () => {
    const parsed = parseConfig(
      [
        "# Why this fragment exists,",
        "# over two lines.",
        "# arch: x86_64 arm64",
        "",
        "CONFIG_A=y",
        "# CONFIG_B is not set",
        'CONFIG_C="-kata"',
        "CONFIG_D=240",
        "CONFIG_E=0x1000",
        "# a later comment is not part of the header",
      ].join("\n"),
      "f.conf",
      true,
    );
    expect(parsed.header).toBe("Why this fragment exists,\nover two lines.");
    expect(parsed.directives).toEqual({ arch: ["x86_64", "arm64"] });
    expect(parsed.entries.map((e) => [e.symbol, e.value, e.line])).toEqual([
      ["A", "y", 5],
      ["B", "n", 6],
      ["C", '"-kata"', 7],
      ["D", "240", 8],
      ["E", "0x1000", 9],
    ]);
  });

  it("rejects junk, bad values and duplicates in strict mode, with file and line", () => {
    expect(() => parseConfig("# h\nCONFIG_A=y\nhello\n", "f.conf", true)).toThrow(
      /f\.conf:3: cannot parse 'hello'/,
    );
    expect(() => parseConfig("# h\nCONFIG_A=yes\n", "f.conf", true)).toThrow(ConfigSyntaxError);
    expect(() => parseConfig("# h\nCONFIG_A=y\n# CONFIG_A is not set\n", "f.conf", true)).toThrow(
      /f\.conf:3: CONFIG_A is already set on line 2/,
    );
  });

  it("is lenient for a kernel-written .config", () => {
    const values = configValues(
      "#\n# Automatically generated file\n#\nCONFIG_X=y\n# CONFIG_Y is not set\nnoise\n",
    );
    expect([...values]).toEqual([
      ["X", "y"],
      ["Y", "n"],
    ]);
  });

  it("formats entries and unquotes strings", () => {
    expect(formatEntry("A", "y")).toBe("CONFIG_A=y");
    expect(formatEntry("A", "n")).toBe("# CONFIG_A is not set");
    expect(unquote('"a \\"b\\""')).toBe('a "b"');
    expect(unquote("240")).toBe("240");
  });
});
