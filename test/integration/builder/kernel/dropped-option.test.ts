// CI: a fragment asking for an option whose dependency is off fails the build, naming the
// option, the dependency and where that dependency is written; no output is left behind.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { configureOnly } from "../../../../builder/src/pipelines/kernel.js";
import { BuildError } from "../../../../builder/src/util/errors.js";
import { kernelTestCache, requireKernelSource } from "../../../helpers/kernel-source.js";

const dir = mkdtempSync(join(tmpdir(), "kata-kernel-drop-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a requested option whose dependency is off", () => {
  it("fails with the option and the unmet dependency named", async () => {
    const fragment = join(dir, "hyperv-iommu-on-kvm.conf");
    writeFileSync(
      fragment,
      "# Test: the Hyper-V IOMMU stub without Hyper-V itself (kvm fragments do not turn HYPERV on).\n" +
        "CONFIG_IOMMU_SUPPORT=y\nCONFIG_HYPERV_IOMMU=y\n",
    );
    const out = join(dir, "out");
    const err = (await configureOnly(
      {
        hypervisor: "kvm",
        arch: "x86_64",
        source: requireKernelSource(),
        cacheDir: kernelTestCache(),
        extraFragments: [fragment],
      },
      out,
    ).catch((e: unknown) => e)) as BuildError;
    expect(err).toBeInstanceOf(BuildError);
    expect(err.message).toMatch(
      /^1 requested kernel option did not survive make olddefconfig \(6\.1\.192, x86_64\):/,
    );
    expect(err.message).toContain(
      `CONFIG_HYPERV_IOMMU=y (from ${fragment}) is not set: unmet dependency HYPERV=n, from depends on (drivers/iommu/Kconfig:`,
    );
    expect(err.message).toContain("[no fragment requests CONFIG_HYPERV]");
    expect(err.hint).toContain("whitelist.conf");
    expect(existsSync(join(out, "config"))).toBe(false);
  }, 600_000);
});
