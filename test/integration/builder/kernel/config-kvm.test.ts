// CI: merge + allnoconfig + olddefconfig + verify for the kvm kernel on the real 6.1 tree, then
// check the result against what each deployed guest form needs (guest-forms.ts).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configValues } from "../../../../builder/src/kernel/kconfig/config-file.js";
import { type ConfigOnlyResult, configureOnly } from "../../../../builder/src/pipelines/kernel.js";
import { kernelTestCache, requireKernelSource } from "../../../helpers/kernel-source.js";
import { COMMON_NEEDS, KVM_TIME, unmet } from "./guest-forms.js";

const out = mkdtempSync(join(tmpdir(), "kata-kernel-kvm-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

let result: ConfigOnlyResult;
let config: Map<string, string>;

beforeAll(async () => {
  result = await configureOnly(
    { hypervisor: "kvm", arch: "x86_64", source: requireKernelSource(), cacheDir: kernelTestCache() },
    out,
  );
  config = configValues(readFileSync(result.config, "utf8"));
}, 600_000);

describe("kvm kernel config on linux-source-6.1", () => {
  it("keeps every requested option (renames accepted by the whitelist) and writes config + manifest", () => {
    for (const option of [
      "VIRTIO_PCI",
      "VIRTIO_MMIO",
      "VIRTIO_BLK",
      "SCSI_VIRTIO",
      "VIRTIO_CONSOLE",
      "VIRTIO_VSOCKETS",
      "VSOCKETS_LOOPBACK",
      "VIRTIO_FS",
      "FUSE_DAX",
      "9P_FS",
      "EXT4_FS",
      "XFS_FS",
      "EROFS_FS",
      "OVERLAY_FS",
      "DM_VERITY",
      "DM_INIT",
      "CGROUP_BPF",
      "MEMCG",
      "USER_NS",
      "SECCOMP_FILTER",
      "IP_NF_IPTABLES",
      "ACPI",
      "PVH",
      "SMP",
      "ADVISE_SYSCALLS",
      "PROC_CHILDREN",
      "RD_GZIP",
      "RD_ZSTD",
      "KVM_GUEST",
      "KERNEL_ZSTD",
    ]) {
      expect(config.get(option), option).toBe("y");
    }
    expect(config.get("MODULES")).toBe("n");
    expect(config.get("HYPERV") ?? "n").toBe("n");
    expect(config.get("LOCALVERSION")).toBe('"-kata"');

    const manifest = JSON.parse(readFileSync(result.manifestPath, "utf8"));
    expect(manifest).toMatchObject({
      kind: "kata-guest-kernel-config",
      version: "6.1.192",
      hypervisor: "kvm",
    });
    expect(manifest.source.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.requested.VSOCKETS_LOOPBACK).toBe("y");
    // Accepted as absent, nothing else: names 6.1 predates (the MITIGATION_* renames, the 6.14
    // hotplug choice, switches later kernels put in front of features 6.1 always has).
    expect(manifest.acceptedDrops.map((d: { option: string }) => d.option).sort()).toEqual([
      "BLK_DEV_WRITE_MOUNTED",
      "IP6_NF_IPTABLES_LEGACY",
      "IP_NF_IPTABLES_LEGACY",
      "MHP_DEFAULT_ONLINE_TYPE_ONLINE_AUTO",
      "MITIGATION_PAGE_TABLE_ISOLATION",
      "MITIGATION_RETPOLINE",
      "NETFILTER_XTABLES_LEGACY",
      "SPECULATION_MITIGATIONS",
    ]);
  });

  for (const group of [...COMMON_NEEDS, KVM_TIME]) {
    it(`meets the needs of ${group.form}`, () => {
      expect(unmet(group, config)).toEqual([]);
    });
  }

  it("keeps the defaults the systemd README asks for: no uevent helper path, cubic, no self-tests", () => {
    expect(config.get("UEVENT_HELPER_PATH") ?? '""').toBe('""');
    expect(config.get("DEFAULT_TCP_CONG")).toBe('"cubic"');
    expect(config.get("CRYPTO_MANAGER_DISABLE_TESTS")).toBe("y");
    // The security modules are the opt-in `security` feature.
    for (const option of ["SECURITY_SELINUX", "AUDIT", "SECURITY_LANDLOCK"])
      expect(config.get(option) ?? "n", option).toBe("n");
  });
});
