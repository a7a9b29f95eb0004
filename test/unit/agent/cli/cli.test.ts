import { parseArgs } from "node:util";
import { describe, expect, it } from "vitest";
import {
  closest,
  colourEnabled,
  didYouMean,
  editDistance,
  flagsOf,
  formatError,
  parseArgsError,
  styles,
  UsageError,
  unknownCommand,
} from "../../../../agent/src/cli/index.js";

describe("suggestions", () => {
  it("counts edits, a swap of neighbours as one", () => {
    expect(editDistance("rootfs", "rootfs")).toBe(0);
    expect(editDistance("rootsf", "rootfs")).toBe(1);
    expect(editDistance("imge", "image")).toBe(1);
    expect(editDistance("kernel", "kernal")).toBe(1);
    expect(editDistance("abc", "xyz")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
  });

  it("suggests the near candidate and nothing for an unrelated word", () => {
    const commands = ["rootfs", "image", "initrd", "kernel", "boot", "cache", "runtime-config"];
    expect(closest("rootf", commands)).toBe("rootfs");
    expect(closest("IMAGE", commands)).toBe("image");
    expect(closest("kernal", commands)).toBe("kernel");
    expect(closest("runtime", commands)).toBe("runtime-config"); // the only one it begins
    expect(closest("bananas", commands)).toBeUndefined();
    expect(closest("x", commands)).toBeUndefined();
    expect(didYouMean("--verison", ["--version", "--verbose"])).toBe(" (did you mean '--version'?)");
    expect(didYouMean("--zzz", ["--version"])).toBe("");
  });

  it("words usage errors with the suggestion", () => {
    const err = unknownCommand("rootf", ["rootfs", "image"]);
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe("unknown command 'rootf' (did you mean 'rootfs'?)");
    expect(formatError("kata-build", err.message, "run 'kata-build --help'")).toBe(
      "kata-build: unknown command 'rootf' (did you mean 'rootfs'?)\n  run 'kata-build --help'\n",
    );
  });

  it("explains parseArgs errors, suggesting the nearest flag", () => {
    const options = { config: { type: "string", short: "c" }, version: { type: "boolean" } } as const;
    const thrown = (args: string[]) => {
      try {
        parseArgs({ args, options, strict: true });
      } catch (err) {
        return parseArgsError(err, flagsOf(options)).message;
      }
      throw new Error("parseArgs accepted it");
    };
    expect(flagsOf(options)).toEqual(["--config", "-c", "--version"]);
    expect(thrown(["--verion"])).toBe("unknown option '--verion' (did you mean '--version'?)");
    expect(thrown(["--config"])).toBe("Option '-c, --config <value>' argument missing");
    expect(thrown(["extra"])).toBe(
      "Unexpected argument 'extra'. This command does not take positional arguments",
    );
  });
});

describe("colour", () => {
  const tty = { isTTY: true };
  it("is on only for a terminal, and never with NO_COLOR or TERM=dumb", () => {
    expect(colourEnabled(tty, {})).toBe(true);
    expect(colourEnabled({ isTTY: false }, {})).toBe(false);
    expect(colourEnabled({}, {})).toBe(false);
    expect(colourEnabled(tty, { NO_COLOR: "1" })).toBe(false);
    expect(colourEnabled(tty, { NO_COLOR: "" })).toBe(true); // no-color.org: set and non-empty
    expect(colourEnabled(tty, { TERM: "dumb" })).toBe(false);
  });

  it("styles text only when enabled", () => {
    expect(styles(false).red("x")).toBe("x");
    expect(styles(true).red("x")).toBe("\x1b[31mx\x1b[39m");
  });
});
