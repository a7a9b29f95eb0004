// CI: merge + allnoconfig + olddefconfig + verify for the mshv kernel on the real 6.1 tree, then
// check the result against what each deployed guest form needs (guest-forms.ts).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configValues, unquote } from "../../../../builder/src/kernel/kconfig/config-file.js";
import { type ConfigOnlyResult, configureOnly } from "../../../../builder/src/pipelines/kernel.js";
import { kernelTestCache, requireKernelSource } from "../../../helpers/kernel-source.js";
import { COMMON_NEEDS, MSHV_TIME, unmet } from "./guest-forms.js";

const out = mkdtempSync(join(tmpdir(), "kata-kernel-mshv-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

let result: ConfigOnlyResult;
let config: Map<string, string>;

beforeAll(async () => {
  result = await configureOnly(
    { hypervisor: "mshv", arch: "x86_64", source: requireKernelSource(), cacheDir: kernelTestCache() },
    out,
  );
  config = configValues(readFileSync(result.config, "utf8"));
}, 600_000);

describe("mshv kernel config on linux-source-6.1", () => {
  it("adds Hyper-V guest support (HYPERV, HYPERV_TIMER, HYPERV_IOMMU) on top of the common set", () => {
    for (const option of ["HYPERV", "HYPERV_TIMER", "HYPERV_IOMMU", "IOMMU_SUPPORT", "X86_X2APIC"]) {
      expect(config.get(option), option).toBe("y");
    }
    for (const option of ["VIRTIO_BLK", "VSOCKETS_LOOPBACK", "DM_VERITY", "PVH", "ACPI"]) {
      expect(config.get(option), option).toBe("y");
    }
    // Like Azure Linux's kernel-uvm: I/O stays on virtio, the VMBus drivers stay off.
    for (const option of [
      "HYPERV_VSOCKETS",
      "HYPERV_NET",
      "HYPERV_STORAGE",
      "HYPERV_BALLOON",
      "HYPERV_UTILS",
    ]) {
      expect(config.get(option) ?? "n", option).toBe("n");
    }
    expect(result.manifest.hypervisor).toBe("mshv");
  });

  for (const group of [...COMMON_NEEDS, MSHV_TIME]) {
    it(`meets the needs of ${group.form}`, () => {
      expect(unmet(group, config)).toEqual([]);
    });
  }

  it("turns on every named feature together and still verifies", async () => {
    const all = ["iptables", "ip6tables", "tun", "cifs", "erofs", "hyperv", "confidential", "security"];
    const every = await configureOnly(
      {
        hypervisor: "mshv",
        arch: "x86_64",
        source: requireKernelSource(),
        cacheDir: kernelTestCache(),
        features: all,
      },
      join(out, "all"),
    );
    const withAll = configValues(readFileSync(every.config, "utf8"));
    for (const option of [
      "IP_NF_ARPTABLES",
      "BRIDGE_NF_EBTABLES",
      "IP6_NF_MATCH_FRAG",
      "TUN",
      "CIFS",
      "EROFS_FS_ZIP_LZMA",
      "HYPERV_VSOCKETS",
      "SEV_GUEST",
      "DM_CRYPT",
      "SECURITY_SELINUX",
      "SECURITY_LANDLOCK",
      "AUDITSYSCALL",
      "IP_NF_SECURITY",
    ]) {
      expect(withAll.get(option), option).toBe("y");
    }
    // Time sync on Hyper-V's VMBus: the utilities driver exposes the host clock as a PTP clock.
    expect(unmet({ form: "hyperv time sync", on: ["HYPERV_UTILS", "PTP_1588_CLOCK"] }, withAll)).toEqual([]);
    // Both security modules are active at boot, not only compiled in.
    const lsm = unquote(withAll.get("LSM") ?? '""').split(",");
    expect(lsm).toEqual(expect.arrayContaining(["landlock", "selinux"]));
    expect(withAll.get("HW_RANDOM_VIRTIO") ?? "n").toBe("n");
    expect(every.manifest.features).toEqual(all);
    expect(every.manifest.acceptedDrops.map((d) => d.option)).toContain("TDX_GUEST_DRIVER");
  }, 600_000);
});
