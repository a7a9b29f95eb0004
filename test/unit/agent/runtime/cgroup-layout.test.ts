import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  CGROUP2_MAGIC,
  type CgroupProbe,
  cgroupLayout,
  crunRefusal,
} from "../../../../agent/src/runtime/cgroup-layout.js";
import { knownFix } from "../../../../agent/src/runtime/known-problems.js";
import { mountedFsType } from "../../../helpers/cgroups.js";

const TMPFS_MAGIC = 0x01021994;

/** A layout described by what statfs and the controllers file would say. */
function probe(types: Record<string, number>, controllers?: string): CgroupProbe {
  return {
    fsType: (path) => types[path],
    readText: (path) => (path.endsWith("cgroup.controllers") ? controllers : undefined),
  };
}

describe("cgroup layout", () => {
  it("tells unified, hybrid and legacy apart as crun does", () => {
    expect(cgroupLayout("/c", probe({ "/c": CGROUP2_MAGIC })).mode).toBe("unified");
    expect(cgroupLayout("/c", probe({ "/c": TMPFS_MAGIC })).mode).toBe("legacy");
    expect(cgroupLayout("/c", probe({}))).toEqual({ mode: "none", hybridControllers: [] });
    expect(
      cgroupLayout("/c", probe({ "/c": TMPFS_MAGIC, "/c/unified": CGROUP2_MAGIC }, "hugetlb pids\n")),
    ).toEqual({ mode: "hybrid", hybridControllers: ["hugetlb", "pids"] });
  });

  it("says crun cannot run only on a hybrid layout whose v2 hierarchy has controllers", () => {
    expect(crunRefusal({ mode: "hybrid", hybridControllers: ["hugetlb"] })).toMatch(/hybrid.*hugetlb/);
    expect(crunRefusal({ mode: "hybrid", hybridControllers: [] })).toBeUndefined();
    expect(crunRefusal({ mode: "unified", hybridControllers: [] })).toBeUndefined();
    expect(crunRefusal({ mode: "legacy", hybridControllers: [] })).toBeUndefined();
  });

  it("reads this host's layout as its mount table shows it", () => {
    const layout = cgroupLayout();
    const root = mountedFsType("/sys/fs/cgroup");
    const unified = mountedFsType("/sys/fs/cgroup/unified");
    const expected = root === "cgroup2" ? "unified" : unified === "cgroup2" ? "hybrid" : "legacy";
    expect(layout.mode).toBe(expected);
    if (expected === "hybrid") {
      const listed = readFileSync("/sys/fs/cgroup/unified/cgroup.controllers", "utf8").split(/\s+/);
      expect(layout.hybridControllers).toEqual(listed.filter(Boolean));
    }
  });

  it("names the fix for crun's hybrid-mode refusal, and nothing for other messages", () => {
    const fix = knownFix("cgroups in hybrid mode not supported, drop all controllers from cgroupv2");
    expect(fix).toContain("agent.oci_runtime=runc");
    expect(knownFix('container_linux.go: starting container process caused: exec: "x": not found')).toBe(
      undefined,
    );
  });
});
