// Which cgroup layout this machine has, read the way crun reads it: statfs(2) of /sys/fs/cgroup
// (cgroup2: unified) and, when that is not cgroup2, of /sys/fs/cgroup/unified (cgroup2 there:
// hybrid, else legacy v1). crun refuses to place a container's cgroup on a hybrid layout whose
// v2 hierarchy has any controller enabled ("cgroups in hybrid mode not supported"); runc
// manages the v1 hierarchies there and is unaffected. No process is started: two statfs calls
// and one small read, cheap enough to do when the runtime is chosen.
import { readFileSync, statfsSync } from "node:fs";

/** CGROUP2_SUPER_MAGIC from linux/magic.h. */
export const CGROUP2_MAGIC = 0x63677270;

export type CgroupMode = "unified" | "hybrid" | "legacy" | "none";

export interface CgroupLayout {
  mode: CgroupMode;
  /** Controllers enabled in the hybrid layout's v2 hierarchy (cgroup.controllers). */
  hybridControllers: string[];
}

export interface CgroupProbe {
  /** statfs(2) type of a path, undefined when it does not exist. */
  fsType(path: string): number | undefined;
  readText(path: string): string | undefined;
}

const realProbe: CgroupProbe = {
  fsType: (path) => {
    try {
      return statfsSync(path).type;
    } catch {
      return undefined;
    }
  },
  readText: (path) => {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
  },
};

export function cgroupLayout(root = "/sys/fs/cgroup", probe: CgroupProbe = realProbe): CgroupLayout {
  const rootType = probe.fsType(root);
  if (rootType === undefined) return { mode: "none", hybridControllers: [] };
  if (rootType === CGROUP2_MAGIC) return { mode: "unified", hybridControllers: [] };
  if (probe.fsType(`${root}/unified`) !== CGROUP2_MAGIC) return { mode: "legacy", hybridControllers: [] };
  const controllers = (probe.readText(`${root}/unified/cgroup.controllers`) ?? "")
    .split(/\s+/)
    .filter(Boolean);
  return { mode: "hybrid", hybridControllers: controllers };
}

/** Why crun cannot run containers on this layout, or undefined when it can. */
export function crunRefusal(layout: CgroupLayout): string | undefined {
  if (layout.mode !== "hybrid" || layout.hybridControllers.length === 0) return undefined;
  return `cgroups are in hybrid mode with controllers (${layout.hybridControllers.join(" ")}) in the cgroup v2 hierarchy at /sys/fs/cgroup/unified, which crun does not support`;
}
