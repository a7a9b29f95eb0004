import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { availableFeatures, selectFragments } from "../../../../builder/src/kernel/fragments.js";
import { parseConfig } from "../../../../builder/src/kernel/kconfig/config-file.js";
import { mergeFragments } from "../../../../builder/src/kernel/kconfig/merge.js";
import { defaultKernelDataDir } from "../../../../builder/src/util/paths.js";
import { writeTree } from "../../../helpers/kernel-fixtures.js";

const data = defaultKernelDataDir();

const scratch = writeTree({
  "fragments/common/a.conf": "# base\nCONFIG_A=y\nCONFIG_B=y\n",
  "fragments/x86_64/b.conf": "# x86\n# CONFIG_B is not set\n",
  "fragments/kvm/c.conf": "# arch: arm64\n# only on arm64\nCONFIG_ARMONLY=y\n",
  "fragments/kvm/d.conf": "# kvm\nCONFIG_KVMX=y\n",
  "fragments/features/f1.conf": "# f1\nCONFIG_B=y\n",
  "fragments/features/f2.conf": "# f2\n# CONFIG_B is not set\n",
  "extra.conf": "# extra\nCONFIG_A=n\n",
  "bad/fragments/common/nohead.conf": "CONFIG_A=y\n",
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("selecting fragments", () => {
  it("orders common, arch, hypervisor, features as given, extra files; honours # arch:", async () => {
    const chosen = await selectFragments(scratch, {
      arch: "x86_64",
      hypervisor: "kvm",
      features: ["f2", "f1"],
      extra: [join(scratch, "extra.conf")],
    });
    expect(chosen.map((f) => f.name)).toEqual([
      "common/a.conf",
      "x86_64/b.conf",
      "kvm/d.conf",
      "features/f2.conf",
      "features/f1.conf",
      join(scratch, "extra.conf"),
    ]);
    const merged = mergeFragments(chosen);
    expect(merged.requests.get("B")!.value).toBe("y");
    expect(merged.requests.get("B")!.from).toBe("features/f1.conf");
    expect(merged.requests.has("ARMONLY")).toBe(false);
    const arm = await selectFragments(scratch, { arch: "arm64", hypervisor: "kvm", features: [], extra: [] });
    expect(arm.map((f) => f.name)).toEqual(["common/a.conf", "kvm/c.conf", "kvm/d.conf"]);
  });

  it("names a missing --fragment file, as a message rather than a stack", async () => {
    await expect(
      selectFragments(scratch, {
        arch: "x86_64",
        hypervisor: "kvm",
        features: [],
        extra: ["/nonexistent/x.conf"],
      }),
    ).rejects.toMatchObject({
      name: "BuildError",
      message: "cannot read the kernel config fragment /nonexistent/x.conf: no such file",
      hint: "check the path given with --fragment",
    });
  });

  it("rejects unknown features (listing the known ones) and fragments without a leading comment", async () => {
    await expect(
      selectFragments(scratch, { arch: "x86_64", hypervisor: "kvm", features: ["nope"], extra: [] }),
    ).rejects.toMatchObject({
      message: "unknown kernel feature 'nope'",
      hint: expect.stringContaining("f1, f2"),
    });
    await expect(
      selectFragments(join(scratch, "bad"), { arch: "x86_64", hypervisor: "kvm", features: [], extra: [] }),
    ).rejects.toThrow(/does not start with a comment saying why it exists/);
  });
});

describe("the repository's fragments", () => {
  const dirs = ["common", "x86_64", "arm64", "kvm", "mshv", "features"];

  it("parse strictly, open with a why-comment, and build nothing as a module", () => {
    for (const dir of dirs) {
      for (const name of readdirSync(join(data, "fragments", dir))) {
        const path = join(data, "fragments", dir, name);
        const parsed = parseConfig(readFileSync(path, "utf8"), path, true);
        expect(parsed.header.length, path).toBeGreaterThan(40);
        expect(parsed.entries.length, path).toBeGreaterThan(0);
        expect(
          parsed.entries.filter((e) => e.value === "m"),
          path,
        ).toEqual([]);
      }
    }
  });

  it("offer the features the issue names", async () => {
    expect(await availableFeatures(data)).toEqual(
      expect.arrayContaining([
        "iptables",
        "ip6tables",
        "tun",
        "cifs",
        "erofs",
        "hyperv",
        "confidential",
        "security",
      ]),
    );
  });

  it("keep the security modules opt-in and the legacy hotplug helpers systemd dislikes off", async () => {
    const kvm = mergeFragments(
      await selectFragments(data, { arch: "x86_64", hypervisor: "kvm", features: [], extra: [] }),
    );
    for (const option of ["SECURITY_SELINUX", "SECURITY_LANDLOCK", "AUDIT"])
      expect(kvm.requests.get(option), option).toBeUndefined();
    for (const option of ["UEVENT_HELPER", "FW_LOADER_USER_HELPER", "SYSFS_DEPRECATED", "RT_GROUP_SCHED"])
      expect(kvm.requests.get(option)?.value, option).toBe("n");
    const secure = mergeFragments(
      await selectFragments(data, { arch: "x86_64", hypervisor: "kvm", features: ["security"], extra: [] }),
    );
    for (const option of ["SECURITY_SELINUX", "SECURITY_LANDLOCK", "AUDIT", "AUDITSYSCALL"])
      expect(secure.requests.get(option)?.value, option).toBe("y");
  });

  it("ask for what Node, crun, runc and the agent need, with modules off", async () => {
    const kvm = mergeFragments(
      await selectFragments(data, { arch: "x86_64", hypervisor: "kvm", features: [], extra: [] }),
    );
    const value = (s: string) => kvm.requests.get(s)?.value;
    for (const option of [
      "VIRTIO_PCI",
      "VIRTIO_MMIO",
      "VIRTIO_BLK",
      "SCSI_VIRTIO",
      "VIRTIO_CONSOLE",
      "VSOCKETS",
      "VIRTIO_VSOCKETS",
      "VSOCKETS_LOOPBACK",
      "VIRTIO_FS",
      "FUSE_DAX",
      "9P_FS",
      "NET_9P_VIRTIO",
      "EXT4_FS",
      "XFS_FS",
      "EROFS_FS",
      "OVERLAY_FS",
      "TMPFS",
      "DEVTMPFS",
      "DM_VERITY",
      "DM_INIT",
      "CGROUPS",
      "MEMCG",
      "CGROUP_BPF",
      "CGROUP_PIDS",
      "CPUSETS",
      "USER_NS",
      "PID_NS",
      "NET_NS",
      "TIME_NS",
      "SECCOMP_FILTER",
      "IP_NF_IPTABLES",
      "UNIX98_PTYS",
      "ACPI",
      "PVH",
      "SMP",
      "HIGH_RES_TIMERS",
      "PRINTK_TIME",
      "ADVISE_SYSCALLS",
      "FHANDLE",
      "MEMBARRIER",
      "RSEQ",
      "FUTEX",
      "EPOLL",
      "EVENTFD",
      "SIGNALFD",
      "TIMERFD",
      "INOTIFY_USER",
      "PROC_CHILDREN",
      "BLK_DEV_INITRD",
      "RD_GZIP",
      "RD_ZSTD",
      "UNIX",
      "INET",
      "VETH",
      "BRIDGE",
      "KVM_GUEST",
    ]) {
      expect(value(option), option).toBe("y");
    }
    expect(value("MODULES")).toBe("n");
    expect(value("HYPERV")).toBeUndefined();
    const mshv = mergeFragments(
      await selectFragments(data, { arch: "x86_64", hypervisor: "mshv", features: [], extra: [] }),
    );
    for (const option of ["HYPERV", "HYPERV_TIMER", "HYPERV_IOMMU"])
      expect(mshv.requests.get(option)?.value).toBe("y");
  });
});
