// Where a process's cgroups are: one directory per controller on cgroup v1, one directory on
// v2 (or both, on a hybrid host). Read from /proc/<pid>/cgroup and the mount table, so it works
// whichever cgroup manager the OCI runtime used.
import { readFileSync } from "node:fs";
import path from "node:path";

export interface CgroupPaths {
  /** The cgroup v2 directory, when the process is in a v2 hierarchy with controllers. */
  unified?: string;
  /** v1 controller name -> directory. */
  v1: Map<string, string>;
}

interface Mount {
  point: string;
  root: string;
  version: 1 | 2;
  controllers: string[];
}

function cgroupMounts(procRoot: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of readFileSync(path.join(procRoot, "self/mountinfo"), "utf8").split("\n")) {
    // id parent major:minor root mountpoint options - fstype source superoptions
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const fields = left.split(" ");
    const [fstype, , superOptions = ""] = right.split(" ");
    if (fstype !== "cgroup" && fstype !== "cgroup2") continue;
    mounts.push({
      root: fields[3] ?? "/",
      point: fields[4] ?? "",
      version: fstype === "cgroup2" ? 2 : 1,
      controllers:
        fstype === "cgroup"
          ? superOptions.split(",").filter((o) => o !== "rw" && o !== "ro" && !o.startsWith("release_agent"))
          : [],
    });
  }
  return mounts;
}

export function cgroupPathsOf(pid: number, procRoot = "/proc"): CgroupPaths {
  const mounts = cgroupMounts(procRoot);
  const result: CgroupPaths = { v1: new Map() };
  for (const line of readFileSync(path.join(procRoot, String(pid), "cgroup"), "utf8").split("\n")) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    const [, id, controllerList = "", cgroupPath = "/"] = match;
    const join = (mount: Mount) => path.join(mount.point, path.relative(mount.root, cgroupPath));
    if (id === "0" && controllerList === "") {
      const mount = mounts.find((m) => m.version === 2);
      if (mount) result.unified = join(mount);
      continue;
    }
    for (const controller of controllerList.split(",")) {
      const mount = mounts.find((m) => m.version === 1 && m.controllers.includes(controller));
      if (mount) result.v1.set(controller, join(mount));
    }
  }
  return result;
}

/** Controllers the v2 directory actually offers (a hybrid host may have none of interest). */
export function v2Controllers(dir: string): string[] {
  try {
    return readFileSync(path.join(dir, "cgroup.controllers"), "utf8").trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}
