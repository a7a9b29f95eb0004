import { describe, expect, it } from "vitest";
import {
  checkOptions,
  formatHelp,
  type OptionTable,
  parseFlags,
  resolveOptions,
} from "../../../../builder/src/util/options.js";

const table = {
  fs: { kind: "string", choices: ["ext4", "erofs"], default: "ext4", help: "filesystem" },
  verity: { kind: "boolean", help: "dm-verity" },
  alignMib: { kind: "number", default: 2, help: "alignment" },
  package: { kind: "strings", help: "extra package" },
  out: { kind: "string", path: true, default: "out", help: "output" },
  source: { kind: "string", required: true, help: "source" },
} as const satisfies OptionTable;

describe("option tables", () => {
  it("parse flags into the options given, nothing more", () => {
    const { given, positionals } = parseFlags(table, [
      "--fs",
      "erofs",
      "--align-mib=4",
      "--package",
      "a",
      "--package",
      "b",
      "x",
    ]);
    expect(given).toEqual({ fs: "erofs", alignMib: 4, package: ["a", "b"] });
    expect(positionals).toEqual(["x"]);
    expect(() => parseFlags(table, ["--veirty"])).toThrow(
      "unknown option '--veirty' (did you mean '--verity'?)",
    );
    expect(() => parseFlags(table, ["--align-mib", "two"])).toThrow("--align-mib: 'two' is not a number");
  });

  it("resolve defaults, paths and required options, and check types and choices", () => {
    const o = resolveOptions(table, { source: "/src", package: ["a"] });
    expect(o).toEqual({
      fs: "ext4",
      alignMib: 2,
      package: ["a"],
      out: `${process.cwd()}/out`,
      source: "/src",
    });
    expect(resolveOptions(table, { source: "s", out: "rel/dir" }, { baseDir: "/etc/kb" }).out).toBe(
      "/etc/kb/rel/dir",
    );
    expect(() => resolveOptions(table, {})).toThrow("--source is required");
    expect(() => resolveOptions(table, { source: "s", fs: "erfos" })).toThrow(
      "--fs: 'erfos' is not one of ext4, erofs (did you mean 'erofs'?)",
    );
    expect(() => resolveOptions(table, { source: "s", verity: "yes" })).toThrow(
      '--verity must be true or false, not "yes"',
    );
    expect(() => resolveOptions(table, { source: "s", alignMiB: 2 })).toThrow(
      "unknown option 'alignMiB' (did you mean 'alignMib'?)",
    );
  });

  it("take keys by property or flag name, and describe them as the caller names them", () => {
    expect(checkOptions(table, { "align-mib": 8, alignMib: undefined })).toEqual({ alignMib: 8 });
    expect(() =>
      checkOptions(table, { pakage: ["x"] }, { describe: (k) => `'${k}' in [image] of f.toml`, noun: "key" }),
    ).toThrow("unknown key 'pakage' in [image] of f.toml (did you mean 'package'?)");
  });

  it("show required options, choices and defaults in --help", () => {
    const help = formatHelp("kata-build x", "Does x.", table);
    expect(help).toContain("--fs VALUE");
    expect(help).toContain("filesystem (one of: ext4, erofs; default: ext4)");
    expect(help).toContain("source (required)");
    expect(help).toContain("-h, --help");
  });
});
