// The OCI spec the boot check sends for its containers, as the Kata runtime would: a busybox
// root filesystem on the shared directory, the usual namespaces, mounts and masks.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { fromRuntimeSpec, type SpecSchema } from "../../../agent/src/client/index.js";

const CAPS = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FOWNER",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_NET_BIND_SERVICE",
];

export function bootCheckSpec(options: {
  rootPath: string;
  args: string[];
  hostname: string;
  terminal?: boolean;
  /** Further bind mounts of guest files, read-only: container path -> guest path. */
  binds?: Record<string, string>;
}): MessageInitShape<typeof SpecSchema> {
  return fromRuntimeSpec({
    ociVersion: "1.0.2",
    process: {
      terminal: options.terminal ?? false,
      user: { uid: 0, gid: 0 },
      args: options.args,
      env: ["PATH=/bin", "TERM=xterm", "HOME=/root"],
      cwd: "/",
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: options.rootPath, readonly: false },
    hostname: options.hostname,
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      {
        destination: "/dev",
        type: "tmpfs",
        source: "tmpfs",
        options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
      },
      {
        destination: "/dev/pts",
        type: "devpts",
        source: "devpts",
        options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
      },
      {
        destination: "/dev/shm",
        type: "tmpfs",
        source: "shm",
        options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
      },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      // The guest's own os-release, so `cat /etc/os-release` in the container names the guest.
      { destination: "/etc/os-release", type: "bind", source: "/etc/os-release", options: ["rbind", "ro"] },
      ...Object.entries(options.binds ?? {}).map(([destination, source]) => ({
        destination,
        type: "bind",
        source,
        options: ["rbind", "ro"],
      })),
    ],
    linux: {
      namespaces: [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }],
      maskedPaths: ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  });
}
