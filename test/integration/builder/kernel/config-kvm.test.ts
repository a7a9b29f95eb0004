// CI: merge + allnoconfig + olddefconfig + verify for the kvm kernel on the real 6.1 tree.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { configValues } from "../../../../builder/src/kernel/kconfig/config-file.js";
import { configureOnly } from "../../../../builder/src/pipelines/kernel.js";
import { kernelTestCache, requireKernelSource } from "../../../helpers/kernel-source.js";

const out = mkdtempSync(join(tmpdir(), "kata-kernel-kvm-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("kvm kernel config on linux-source-6.1", () => {
  it("keeps every requested option (renames accepted by the whitelist) and writes config + manifest", async () => {
    const result = await configureOnly(
      { hypervisor: "kvm", arch: "x86_64", source: requireKernelSource(), cacheDir: kernelTestCache() },
      out,
    );
    const config = configValues(readFileSync(result.config, "utf8"));
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
    // 6.1 predates the MITIGATION_* names; those requests are accepted as absent, nothing else.
    expect(manifest.acceptedDrops.map((d: { option: string }) => d.option).sort()).toEqual([
      "MHP_DEFAULT_ONLINE_TYPE_ONLINE_AUTO",
      "MITIGATION_PAGE_TABLE_ISOLATION",
      "MITIGATION_RETPOLINE",
      "SPECULATION_MITIGATIONS",
    ]);
  }, 600_000);
});
