import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { renderExpr } from "../../../../../builder/src/kernel/kconfig/expr.js";
import { parseKconfigTree } from "../../../../../builder/src/kernel/kconfig/tree.js";
import { MINI_KCONFIG, writeTree } from "../../../../helpers/kernel-fixtures.js";

const root = writeTree(MINI_KCONFIG);
afterAll(() => rmSync(root, { recursive: true, force: true }));
const tree = parseKconfigTree(root, { srcarch: "x86", arch: "x86_64" });

const conditions = (name: string) =>
  tree.definitions.get(name)![0]!.conditions.map((c) => `${renderExpr(c.expr)} @ ${c.origin}`);

describe("parseKconfigTree", () => {
  it("follows source (with $(SRCARCH)) and rsource, skipping macro lines, without warnings", () => {
    expect(tree.warnings).toEqual([]);
    expect(tree.fileCount).toBe(7);
    expect(tree.definitions.has("X86")).toBe(true);
    expect(tree.definitions.has("ARM64")).toBe(false);
    expect(tree.definitions.has("EXT4_FS")).toBe(true);
  });

  it("does not read help text as Kconfig, even when it contains keywords", () => {
    expect(tree.definitions.has("NOT_A_SYMBOL")).toBe(false);
    expect(conditions("PVH")).toEqual(["HYPERVISOR_GUEST @ if HYPERVISOR_GUEST (arch/x86/Kconfig:13)"]);
  });

  it("records types, prompts with conditions, and defaults", () => {
    const kcmp = tree.definitions.get("KCMP")![0]!;
    expect(kcmp.type).toBe("bool");
    expect(kcmp.prompt?.text).toBe("Enable kcmp() system call");
    expect(renderExpr(kcmp.prompt!.condition!)).toBe("EXPERT");
    const nr = tree.definitions.get("NR_CPUS")![0]!;
    expect(nr.type).toBe("int");
    expect(renderExpr(nr.prompt!.condition!)).toBe("SMP && !MAXSMP");
    expect(
      nr.defaults.map((d) => `${renderExpr(d.value)} if ${d.condition ? renderExpr(d.condition) : "-"}`),
    ).toEqual(["64 if X86", "8 if -"]);
    expect(renderExpr(tree.definitions.get("HELPER")![0]!.defaults[0]!.value)).toBe("THING_A && THING_B");
    expect(tree.typeOf("JBD2")).toBe("tristate");
    expect(tree.typeOf("NOPE")).toBeUndefined();
  });

  it("stacks if, menu and choice conditions in front of the entry's own depends on", () => {
    expect(conditions("EXT4_DAX")).toEqual([
      "BLOCK @ if BLOCK (fs/Kconfig:7)",
      "EXT4_FS @ depends on (fs/ext4/Kconfig:10)",
    ]);
    expect(conditions("NINEP_FS")).toEqual([
      "NET @ depends on (fs/Kconfig:12)",
      "INET && NET_9P @ depends on (fs/Kconfig:16)",
    ]);
    expect(conditions("KERNEL_ZSTD")).toEqual([
      "HAVE_THING @ depends on (init/Kconfig:25)",
      "HAVE_THING && X86 @ depends on (init/Kconfig:32)",
    ]);
  });

  it("indexes choices and reverse selects (with their conditions)", () => {
    const choice = tree.definitions.get("KERNEL_GZIP")![0]!.choice!;
    expect(tree.choices.get(choice)).toEqual(["KERNEL_GZIP", "KERNEL_ZSTD"]);
    expect(tree.selectors.get("KCMP")).toEqual([{ by: "CHECKPOINT_RESTORE" }]);
    const iomap = tree.selectors.get("FS_IOMAP")!;
    expect(iomap.map((s) => `${s.by} if ${renderExpr(s.condition!)}`)).toEqual(["EXT4_FS if EXT4_DAX"]);
  });

  it("reads arm64 instead of x86 when asked", () => {
    const arm = parseKconfigTree(root, { srcarch: "arm64", arch: "arm64" });
    expect(arm.definitions.has("ARM64")).toBe(true);
    expect(arm.definitions.has("PVH")).toBe(false);
  });
});
