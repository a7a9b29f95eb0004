import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../../../../builder/src/kernel/kconfig/config-file.js";
import { explainDrops, findDrops } from "../../../../../builder/src/kernel/kconfig/explain.js";
import { mergeFragments } from "../../../../../builder/src/kernel/kconfig/merge.js";
import { parseKconfigTree } from "../../../../../builder/src/kernel/kconfig/tree.js";
import { MINI_KCONFIG, writeTree } from "../../../../helpers/kernel-fixtures.js";

const root = writeTree(MINI_KCONFIG);
afterAll(() => rmSync(root, { recursive: true, force: true }));
const tree = parseKconfigTree(root, { srcarch: "x86", arch: "x86_64" });

/** Explains what `requested` loses against the final .config text `final`. */
function explain(requested: string, final: string) {
  const merged = mergeFragments([
    { name: "test.conf", entries: parseConfig(`# t\n${requested}`, "t", true).entries },
  ]);
  const finalValues = new Map(parseConfig(final, ".config").entries.map((e) => [e.symbol, e.value]));
  const drops = findDrops(merged.requests.values(), finalValues);
  return Object.fromEntries(explainDrops(drops, tree, final, "x86").map((d) => [d.symbol, d]));
}

describe("explaining dropped options", () => {
  const final = [
    "CONFIG_X86=y",
    "CONFIG_HAVE_THING=y",
    "CONFIG_KERNEL_GZIP=y",
    "# CONFIG_KERNEL_ZSTD is not set",
    "# CONFIG_HYPERVISOR_GUEST is not set",
    "# CONFIG_EXPERT is not set",
    "# CONFIG_CHECKPOINT_RESTORE is not set",
    "CONFIG_BLOCK=y",
    "CONFIG_EXT4_FS=y",
    "CONFIG_EXT4_DAX=y",
    "CONFIG_FS_IOMAP=y",
    "CONFIG_THING_A=y",
    "# CONFIG_THING_B is not set",
    "CONFIG_NR_CPUS=64",
    "",
  ].join("\n");

  it("accepts values that survived, including equal numbers written differently", () => {
    expect(explain("CONFIG_EXT4_FS=y\nCONFIG_NR_CPUS=0x40\n# CONFIG_EXPERT is not set\n", final)).toEqual({});
  });

  it("names the enclosing if block that dropped an option", () => {
    const d = explain("CONFIG_PVH=y\n", final).PVH!;
    expect(d.absent).toBe(false);
    expect(d.actual).toBe("n");
    expect(d.reason).toBe(
      "unmet dependency HYPERVISOR_GUEST=n, from inside if HYPERVISOR_GUEST (arch/x86/Kconfig:13)",
    );
    expect(d.blockedBy).toEqual(["HYPERVISOR_GUEST"]);
  });

  it("names the first false term of a depends on line, and menu dependencies", () => {
    expect(explain("CONFIG_NINEP_FS=y\n", `${final}CONFIG_NET=y\nCONFIG_INET=y\n`).NINEP_FS!.reason).toBe(
      "unmet dependency NET_9P=n, from depends on (fs/Kconfig:16)",
    );
    expect(explain("CONFIG_NINEP_FS=y\n", final).NINEP_FS!.reason).toBe(
      "unmet dependency NET=n, from depends on (fs/Kconfig:12)",
    );
  });

  it("explains hidden prompts and who could select the option", () => {
    expect(explain("CONFIG_KCMP=y\n", final).KCMP!.reason).toBe(
      "its prompt is hidden unless EXPERT=n; only 'select' from CHECKPOINT_RESTORE turns it on, and none of those is on",
    );
  });

  it("explains promptless options through their default", () => {
    const d = explain("CONFIG_HELPER=y\n", final).HELPER!;
    expect(d.reason).toBe(
      "it has no prompt; its default THING_A && THING_B is n because of THING_B=n; and nothing selects it",
    );
    expect(d.blockedBy).toEqual(["THING_B"]);
  });

  it("reports the choice member that won", () => {
    expect(explain("CONFIG_KERNEL_ZSTD=y\n", final).KERNEL_ZSTD!.reason).toMatch(
      /^KERNEL_GZIP was chosen in the same choice \(init\/Kconfig:\d+\)$/,
    );
  });

  it("says when the blocking term is not an option at all", () => {
    const d = explain("CONFIG_FOO=y\n", final);
    expect(d.FOO!.absent).toBe(true);
    const t = explain("CONFIG_NINEP_FS=y\n", final.replace("CONFIG_X86=y", "")).NINEP_FS!;
    expect(t.reason).toBe("unmet dependency NET=n, from depends on (fs/Kconfig:12)");
  });

  it("reports options forced on by select when they were asked to be off", () => {
    const d = explain("# CONFIG_FS_IOMAP is not set\n", final).FS_IOMAP!;
    expect(d.actual).toBe("y");
    expect(d.reason).toBe("selected by EXT4_FS (on)");
  });

  it("marks options this tree does not define as absent", () => {
    const d = explain("CONFIG_MITIGATION_RETPOLINE=y\nCONFIG_ARM64=y\n", final);
    expect(d.MITIGATION_RETPOLINE!.absent).toBe(true);
    expect(d.ARM64!.reason).toMatch(/no Kconfig file of this kernel defines it for x86/);
  });
});
