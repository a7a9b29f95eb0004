// CI: merge + allnoconfig + olddefconfig + verify for the mshv kernel on the real 6.1 tree.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { configValues } from "../../../../builder/src/kernel/kconfig/config-file.js";
import { configureOnly } from "../../../../builder/src/pipelines/kernel.js";
import { kernelTestCache, requireKernelSource } from "../../../helpers/kernel-source.js";

const out = mkdtempSync(join(tmpdir(), "kata-kernel-mshv-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("mshv kernel config on linux-source-6.1", () => {
  it("adds Hyper-V guest support (HYPERV, HYPERV_TIMER, HYPERV_IOMMU) on top of the common set", async () => {
    const result = await configureOnly(
      { hypervisor: "mshv", arch: "x86_64", source: requireKernelSource(), cacheDir: kernelTestCache() },
      out,
    );
    const config = configValues(readFileSync(result.config, "utf8"));
    for (const option of ["HYPERV", "HYPERV_TIMER", "HYPERV_IOMMU", "IOMMU_SUPPORT", "X86_X2APIC"]) {
      expect(config.get(option), option).toBe("y");
    }
    for (const option of ["VIRTIO_BLK", "VSOCKETS_LOOPBACK", "DM_VERITY", "PVH", "ACPI"]) {
      expect(config.get(option), option).toBe("y");
    }
    // Like Azure Linux's kernel-uvm: I/O stays on virtio, the VMBus drivers stay off.
    for (const option of ["HYPERV_VSOCKETS", "HYPERV_NET", "HYPERV_STORAGE", "HYPERV_BALLOON"]) {
      expect(config.get(option) ?? "n", option).toBe("n");
    }
    expect(config.get("KVM_GUEST") ?? "n").toBe("n");
    expect(result.manifest.hypervisor).toBe("mshv");
  }, 600_000);

  it("turns on every named feature together and still verifies", async () => {
    const all = ["iptables", "ip6tables", "tun", "cifs", "erofs", "hyperv", "confidential"];
    const result = await configureOnly(
      {
        hypervisor: "mshv",
        arch: "x86_64",
        source: requireKernelSource(),
        cacheDir: kernelTestCache(),
        features: all,
      },
      join(out, "all"),
    );
    const config = configValues(readFileSync(result.config, "utf8"));
    for (const option of [
      "IP6_NF_IPTABLES",
      "TUN",
      "CIFS",
      "EROFS_FS_ZIP",
      "HYPERV_VSOCKETS",
      "SEV_GUEST",
      "DM_CRYPT",
    ]) {
      expect(config.get(option), option).toBe("y");
    }
    expect(config.get("HW_RANDOM_VIRTIO") ?? "n").toBe("n");
    expect(result.manifest.features).toEqual(all);
    expect(result.manifest.acceptedDrops.map((d) => d.option)).toContain("TDX_GUEST_DRIVER");
  }, 600_000);
});
