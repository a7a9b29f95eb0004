// This host's cgroup layout, read from /proc/self/mountinfo (independently of the agent's
// statfs-based reading): which filesystem is mounted at /sys/fs/cgroup and at its unified/.
import { readFileSync } from "node:fs";

export function mountedFsType(mountPoint: string): string | undefined {
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [left, right] = line.split(" - ");
    if (left?.split(" ")[4] === mountPoint) return right?.split(" ")[0];
  }
  return undefined;
}

/** cgroup v1 with a cgroup2 at /sys/fs/cgroup/unified that has controllers: crun refuses it. */
export function hostIsHybridWithControllers(): boolean {
  if (mountedFsType("/sys/fs/cgroup") === "cgroup2") return false;
  if (mountedFsType("/sys/fs/cgroup/unified") !== "cgroup2") return false;
  return readFileSync("/sys/fs/cgroup/unified/cgroup.controllers", "utf8").trim() !== "";
}
