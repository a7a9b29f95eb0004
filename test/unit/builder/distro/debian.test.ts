// The Debian strategy's pure parts: the base-tree request (what keys the cache), the lists'
// refresh policy, and mmdebstrap's command line with the cached lists.
import { describe, expect, it } from "vitest";
import { baseKey } from "../../../../builder/src/distro/base-cache.js";
import { baseRequest, sourcesFor } from "../../../../builder/src/distro/debian.js";
import { METADATA_MAX_AGE_SECONDS, needsRefresh } from "../../../../builder/src/distro/debian-metadata.js";
import { bootstrapArgs } from "../../../../builder/src/tools/mmdebstrap.js";

const fields = {
  suite: "bookworm",
  variant: "essential",
  sources: ["deb http://deb.debian.org/debian bookworm main"],
  packages: ["nodejs", "crun", "nodejs"],
  excludes: ["/usr/share/doc/*"],
  hookDirs: [],
  arch: "amd64",
  mmdebstrap: "1.3.5",
  epoch: 1700000000,
};

describe("Debian base-tree request", () => {
  it("is the same for the same day and package set, in any order", () => {
    const a = baseKey(baseRequest(fields));
    expect(baseKey(baseRequest({ ...fields, packages: ["crun", "nodejs"], epoch: 1700003600 }))).toBe(a);
    expect(baseRequest(fields).packages).toEqual(["crun", "nodejs"]);
  });

  it("changes with the day of SOURCE_DATE_EPOCH, the packages, the sources and the tool", () => {
    const a = baseKey(baseRequest(fields));
    expect(baseKey(baseRequest({ ...fields, epoch: 1700000000 + 86400 }))).not.toBe(a);
    expect(baseKey(baseRequest({ ...fields, packages: ["nodejs"] }))).not.toBe(a);
    expect(baseKey(baseRequest({ ...fields, sources: sourcesFor({ ...cfg }, "/srv/mirror") }))).not.toBe(a);
    expect(baseKey(baseRequest({ ...fields, mmdebstrap: "1.4.0" }))).not.toBe(a);
    expect(baseKey(baseRequest({ ...fields, variant: "minbase" }))).not.toBe(a);
  });
});

const cfg = { suite: "bookworm", variant: "essential", mirrors: [], excludes: [] };

describe("package lists refresh policy", () => {
  const now = 1_800_000_000_000;
  it("refreshes missing, old and future-dated lists", () => {
    expect(needsRefresh(undefined, now, METADATA_MAX_AGE_SECONDS)).toBe(true);
    expect(needsRefresh(now - 3600_000, now, METADATA_MAX_AGE_SECONDS)).toBe(false);
    expect(needsRefresh(now - 7 * 3600_000, now, METADATA_MAX_AGE_SECONDS)).toBe(true);
    expect(needsRefresh(now + 3600_000, now, METADATA_MAX_AGE_SECONDS)).toBe(true);
    expect(METADATA_MAX_AGE_SECONDS).toBe(6 * 3600);
  });
});

describe("mmdebstrap with the cached lists", () => {
  it("copies the lists in and skips apt's update; .debs are copied in and out", () => {
    const args = bootstrapArgs({
      suite: "bookworm",
      target: "/out/rootfs",
      variant: "essential",
      include: ["nodejs", "iptables"],
      mirrors: fields.sources,
      cacheDir: "/cache/debian/debs",
      excludes: [],
      listsDir: "/work/apt-lists",
    });
    expect(args).toContain("--setup-hook=sync-in '/work/apt-lists' /var/lib/apt/lists/");
    expect(args).toContain("--skip=update");
    expect(args).toContain("--setup-hook=sync-in '/cache/debian/debs' /var/cache/apt/archives/");
    expect(args).toContain("--customize-hook=sync-out /var/cache/apt/archives '/cache/debian/debs'");
    expect(args).toContain('--aptopt=APT::Install-Recommends "false"');
    expect(args).toContain("--include=nodejs,iptables");
    expect(
      bootstrapArgs({
        ...{
          suite: "b",
          target: "t",
          variant: "essential",
          include: [],
          mirrors: [],
          cacheDir: "c",
          excludes: [],
        },
      }),
    ).not.toContain("--skip=update");
  });
});
