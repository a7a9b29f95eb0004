// The kernel options each deployed guest form needs, grouped by the form that needs them. The
// config tests check every group against the real merged config (allnoconfig + fragments +
// olddefconfig on the kernel tree), so a fragment edit that loses one of these fails in CI
// with the form it breaks named.

export interface NeedGroup {
  /** Who needs the options, as a test title. */
  form: string;
  /** Options that must be `=y`. */
  on: readonly string[];
  /** Options that must be off (absent from the config or `# ... is not set`). */
  off?: readonly string[];
}

/** Needs shared by every x86_64 guest, whatever the hypervisor. */
export const COMMON_NEEDS: readonly NeedGroup[] = [
  {
    form: "systemd guests (Debian 12's systemd 252, Azure Linux 3.0's systemd 255)",
    on: [
      // systemd's README: required.
      "DEVTMPFS",
      "CGROUPS",
      "INOTIFY_USER",
      "SIGNALFD",
      "TIMERFD",
      "EPOLL",
      "UNIX",
      "NET",
      "SYSFS",
      "PROC_FS",
      "FHANDLE",
      // udev rules, virtualization detection, SCSI serials, PrivateNetwork=, PrivateUsers=.
      "DMIID",
      "BLK_DEV_BSG",
      "NET_NS",
      "USER_NS",
      // Strongly recommended.
      "IPV6",
      "AUTOFS_FS",
      "TMPFS_XATTR",
      "TMPFS_POSIX_ACL",
      "EXT4_FS_POSIX_ACL",
      "SECCOMP",
      "SECCOMP_FILTER",
      "KCMP",
      // Resource control (CPUShares=, CPUQuota=, IPAddressDeny=, device policy) and systemd-oomd.
      "CGROUP_SCHED",
      "FAIR_GROUP_SCHED",
      "CFS_BANDWIDTH",
      "BPF_SYSCALL",
      "CGROUP_BPF",
      "MEMCG",
      "PSI",
      // proc-sys-fs-binfmt_misc.automount.
      "BINFMT_MISC",
    ],
    off: ["UEVENT_HELPER", "FW_LOADER_USER_HELPER", "SYSFS_DEPRECATED", "RT_GROUP_SCHED"],
  },
  {
    form: "erofs root images (kata-build image --fs erofs writes LZ4-compressed erofs)",
    on: ["MISC_FILESYSTEMS", "EROFS_FS", "EROFS_FS_ZIP", "LZ4_DECOMPRESS", "EROFS_FS_XATTR"],
  },
  {
    form: "NVDIMM/DAX root (root=/dev/pmem0p1 rootflags=dax on QEMU's nvdimm device)",
    on: [
      "ACPI_NFIT",
      "LIBNVDIMM",
      "BLK_DEV_PMEM",
      "ND_PFN",
      "NVDIMM_PFN",
      "NVDIMM_DAX",
      "BTT",
      "ND_BTT",
      "DAX",
      "FS_DAX",
      "ZONE_DEVICE",
      "MEMORY_HOTPLUG",
      "MEMORY_HOTREMOVE",
      "SPARSEMEM_VMEMMAP",
      "EXT4_FS",
      "MSDOS_PARTITION",
      "VIRTIO_PMEM",
    ],
  },
  {
    form: "ephemeral encrypted storage (LUKS2 aes-xts-plain64 through cryptsetup)",
    on: [
      "BLK_DEV_DM",
      "DM_CRYPT",
      "DM_INTEGRITY",
      "CRYPTO_AES",
      "CRYPTO_AES_NI_INTEL",
      "CRYPTO_XTS",
      "CRYPTO_SHA256",
      "CRYPTO_USER_API_SKCIPHER",
      "CRYPTO_USER_API_HASH",
      "KEYS",
    ],
  },
  {
    form: "measured root (dm-verity from the command line, hashed with SHA-NI/AVX2)",
    on: ["DM_VERITY", "DM_INIT", "CRYPTO_SHA256", "CRYPTO_SHA256_SSSE3"],
  },
  {
    form: "the boot check's vsock bridge (loopback transport)",
    on: ["VSOCKETS", "VIRTIO_VSOCKETS", "VSOCKETS_LOOPBACK"],
  },
  {
    form: "containers in a pod: routing, traffic control, virtual interfaces",
    on: [
      "IP_ADVANCED_ROUTER",
      "IP_MULTIPLE_TABLES",
      "IPV6_MULTIPLE_TABLES",
      "NET_SCHED",
      "NET_CLS_ACT",
      "NET_SCH_INGRESS",
      "NET_SCH_HTB",
      "NET_SCH_TBF",
      "NET_SCH_NETEM",
      "NET_SCH_FQ_CODEL",
      "NET_CLS_U32",
      "NET_CLS_BPF",
      "NET_ACT_MIRRED",
      "VXLAN",
      "MACVLAN",
      "MACVTAP",
      "DUMMY",
      "VETH",
      "BRIDGE",
      "TCP_CONG_BBR",
      "INET_DIAG",
    ],
  },
  {
    form: "containers in a pod: iptables, nftables, conntrack helpers, IPVS",
    on: [
      "IP_NF_IPTABLES",
      "IP_NF_FILTER",
      "IP_NF_NAT",
      "IP_NF_MANGLE",
      "IP_NF_RAW",
      "IP6_NF_IPTABLES",
      "IP6_NF_FILTER",
      "IP6_NF_NAT",
      "IP6_NF_MANGLE",
      "NFT_COMPAT",
      "NFT_NUMGEN",
      "NFT_FIB_INET",
      "NF_CONNTRACK_FTP",
      "NF_NAT_FTP",
      "NF_CONNTRACK_TFTP",
      "NF_CONNTRACK_SIP",
      "NF_CONNTRACK_H323",
      "NF_CONNTRACK_PPTP",
      "NF_CT_NETLINK",
      "NETFILTER_XT_MATCH_STATISTIC",
      "NETFILTER_XT_MATCH_RECENT",
      "NETFILTER_XT_MATCH_SOCKET",
      "NETFILTER_XT_TARGET_TPROXY",
      "NETFILTER_XT_MATCH_PHYSDEV",
      "NETFILTER_XT_SET",
      "IP_SET_HASH_IPPORT",
      "IP_VS",
      "IP_VS_IPV6",
      "IP_VS_RR",
      "IP_VS_NFCT",
      "NETFILTER_XT_MATCH_IPVS",
    ],
  },
  {
    form: "containers in a pod: overlayfs, accounting, binaries, NUMA, ACPI hotplug",
    on: [
      "OVERLAY_FS",
      "OVERLAY_FS_INDEX",
      "OVERLAY_FS_REDIRECT_DIR",
      "OVERLAY_FS_METACOPY",
      "OVERLAY_FS_XINO_AUTO",
      "TASKSTATS",
      "TASK_DELAY_ACCT",
      "TASK_XACCT",
      "TASK_IO_ACCOUNTING",
      "BINFMT_MISC",
      "IA32_EMULATION",
      "NUMA",
      "X86_64_ACPI_NUMA",
      "ACPI_CONTAINER",
      "ACPI_PCI_SLOT",
      "HOTPLUG_PCI_ACPI",
    ],
  },
];

/** kvm only: kvmclock and the KVM PTP clock (chrony's /dev/ptp0). */
export const KVM_TIME: NeedGroup = {
  form: "time sync on kvm (chrony reads the KVM PTP clock /dev/ptp0)",
  on: ["KVM_GUEST", "PTP_1588_CLOCK", "PTP_1588_CLOCK_KVM"],
};

/** mshv only: the Hyper-V reference TSC page; no KVM PTP clock exists there. */
export const MSHV_TIME: NeedGroup = {
  form: "time sync on mshv (Hyper-V clocksource; no KVM PTP clock)",
  on: ["HYPERV", "HYPERV_TIMER"],
  off: ["PTP_1588_CLOCK_KVM", "KVM_GUEST"],
};

/** The options of a group that are not as required, as `NAME=value` strings (empty when all are). */
export function unmet(group: NeedGroup, config: ReadonlyMap<string, string>): string[] {
  const wrongOn = group.on.filter((o) => config.get(o) !== "y").map((o) => `${o}=${config.get(o) ?? "n"}`);
  const wrongOff = (group.off ?? [])
    .filter((o) => (config.get(o) ?? "n") !== "n")
    .map((o) => `${o}=${config.get(o)} (must be off)`);
  return [...wrongOn, ...wrongOff];
}
