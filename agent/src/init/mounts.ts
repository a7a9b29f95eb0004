// The filesystems PID 1 sets up before anything else can run: what a guest without systemd
// needs for the agent, the OCI runtime and containers.
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import type { Native } from "../native/index.js";

interface EarlyMount {
  source: string;
  target: string;
  type: string;
  flags: (n: Native) => number;
  data?: string;
}

const EARLY_MOUNTS: EarlyMount[] = [
  { source: "proc", target: "/proc", type: "proc", flags: (n) => n.MS_NOSUID | n.MS_NODEV | n.MS_NOEXEC },
  { source: "sysfs", target: "/sys", type: "sysfs", flags: (n) => n.MS_NOSUID | n.MS_NODEV | n.MS_NOEXEC },
  { source: "devtmpfs", target: "/dev", type: "devtmpfs", flags: (n) => n.MS_NOSUID, data: "mode=0755" },
  {
    source: "tmpfs",
    target: "/dev/shm",
    type: "tmpfs",
    flags: (n) => n.MS_NOSUID | n.MS_NODEV,
    data: "mode=1777",
  },
  {
    source: "devpts",
    target: "/dev/pts",
    type: "devpts",
    flags: (n) => n.MS_NOSUID | n.MS_NOEXEC,
    data: "newinstance,ptmxmode=0666,mode=0620,gid=5",
  },
  {
    source: "tmpfs",
    target: "/run",
    type: "tmpfs",
    flags: (n) => n.MS_NOSUID | n.MS_NODEV,
    data: "mode=0755",
  },
  {
    source: "tmpfs",
    target: "/tmp",
    type: "tmpfs",
    flags: (n) => n.MS_NOSUID | n.MS_NODEV,
    data: "mode=1777",
  },
  {
    source: "cgroup2",
    target: "/sys/fs/cgroup",
    type: "cgroup2",
    flags: (n) => n.MS_NOSUID | n.MS_NODEV | n.MS_NOEXEC,
    data: "nsdelegate",
  },
];

/** Controllers handed down to container cgroups (those the kernel has). */
const CONTROLLERS = ["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"];

/**
 * Mounts everything in the table. Nothing is skipped: whatever was there before (a parent's
 * /proc when started in new namespaces) is not ours; only the very same filesystem already
 * mounted at the target (EBUSY, e.g. the kernel's devtmpfs) is left as it is.
 */
export function mountEarlyFilesystems(n: Native): { mounted: string[]; failed: string[] } {
  const mounted: string[] = [];
  const failed: string[] = [];
  for (const m of EARLY_MOUNTS) {
    try {
      mkdirSync(m.target, { recursive: true });
    } catch {
      // a read-only root already has its mount points (or the mount below will say why)
    }
    try {
      n.mount(m.source, m.target, m.type, m.flags(n), m.data ?? "");
      mounted.push(m.target);
    } catch (err) {
      // EBUSY: this very filesystem is already mounted there (devtmpfs the kernel mounted).
      if ((err as NodeJS.ErrnoException).code === "EBUSY") continue;
      // Otherwise carry on: the agent can still serve, and the log says what is missing.
      failed.push(`${m.target} (${m.type}): ${(err as Error).message}`);
    }
  }
  // New ptys must come from the devpts instance mounted above.
  try {
    rmSync("/dev/ptmx", { force: true });
    symlinkSync("pts/ptmx", "/dev/ptmx");
  } catch {
    // keep the devtmpfs node
  }
  enableControllers();
  return { mounted, failed };
}

function enableControllers(): void {
  let available: string[];
  try {
    available = readFileSync("/sys/fs/cgroup/cgroup.controllers", "utf8").trim().split(/\s+/);
  } catch {
    return;
  }
  const wanted = CONTROLLERS.filter((c) => available.includes(c));
  if (wanted.length)
    writeFileSync("/sys/fs/cgroup/cgroup.subtree_control", wanted.map((c) => `+${c}`).join(" "));
}
