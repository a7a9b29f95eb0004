import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../../../builder/src/kernel/kconfig/config-file.js";
import {
  conflicts,
  mergedHash,
  mergeFragments,
  renderMerged,
} from "../../../../../builder/src/kernel/kconfig/merge.js";

const fragment = (name: string, text: string) => ({
  name,
  entries: parseConfig(`# test\n${text}`, name, true).entries,
});

describe("mergeFragments", () => {
  it("lets later fragments win and remembers what they replaced", () => {
    const merged = mergeFragments([
      fragment("common/a.conf", "CONFIG_X=y\nCONFIG_Y=y\n"),
      fragment("x86_64/b.conf", "# CONFIG_X is not set\nCONFIG_Z=3\n"),
      fragment("features/c.conf", "CONFIG_X=y\nCONFIG_Y=y\n"),
    ]);
    const x = merged.requests.get("X")!;
    expect(x.value).toBe("y");
    expect(x.from).toBe("features/c.conf");
    expect(x.overrides).toEqual([
      { value: "y", from: "common/a.conf" },
      { value: "n", from: "x86_64/b.conf" },
    ]);
    // X changed value along the way; Y was only repeated.
    expect(conflicts(merged).map((r) => r.symbol)).toEqual(["X"]);
  });

  it("renders sorted .config text whose hash ignores fragment order for disjoint symbols", () => {
    const a = mergeFragments([fragment("a", "CONFIG_B=y\n"), fragment("b", "CONFIG_A=y\n")]);
    const b = mergeFragments([fragment("b", "CONFIG_A=y\n"), fragment("a", "CONFIG_B=y\n")]);
    expect(renderMerged(a)).toBe("CONFIG_A=y\nCONFIG_B=y\n");
    expect(mergedHash(a)).toBe(mergedHash(b));
    const c = mergeFragments([fragment("a", "CONFIG_A=y\n"), fragment("b", "# CONFIG_A is not set\n")]);
    expect(renderMerged(c)).toBe("# CONFIG_A is not set\n");
    expect(mergedHash(c)).not.toBe(mergedHash(a));
  });
});
