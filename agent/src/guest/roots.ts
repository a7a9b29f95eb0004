// Where the guest's kernel interfaces are. Production uses the real ones; tests point these at
// a directory tree that imitates sysfs and procfs, so hotplug logic can run without a VM.

export interface GuestRoots {
  /** sysfs, normally "/sys". */
  readonly sys: string;
  /** procfs, normally "/proc". */
  readonly proc: string;
  /** device nodes, normally "/dev". */
  readonly dev: string;
  /** the cgroup hierarchy, normally "/sys/fs/cgroup". */
  readonly cgroup: string;
}

export const realRoots: GuestRoots = { sys: "/sys", proc: "/proc", dev: "/dev", cgroup: "/sys/fs/cgroup" };
