import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { downloadUrl, looksLikeVersion, parseVersions } from "../../../../builder/src/kernel/versions.js";
import { defaultKernelDataDir } from "../../../../builder/src/util/paths.js";

const SHA = "a".repeat(64);

describe("pinned kernel versions", () => {
  it("parses VERSION SHA256 [URL] lines and builds kernel.org URLs", () => {
    const pins = parseVersions(
      `# comment\n6.6.60 ${SHA}\n6.1.192-debian3 ${"b".repeat(64)} file:///x.tar.xz # local\n`,
      "v",
    );
    expect(downloadUrl(pins.get("6.6.60")!)).toBe(
      "https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.6.60.tar.xz",
    );
    expect(downloadUrl(pins.get("6.6.60")!, "http://mirror.example/pub/")).toBe(
      "http://mirror.example/pub/linux/kernel/v6.x/linux-6.6.60.tar.xz",
    );
    expect(downloadUrl(pins.get("6.1.192-debian3")!)).toBe("file:///x.tar.xz");
  });

  it("rejects malformed lines and double pins", () => {
    expect(() => parseVersions("6.6.60 deadbeef\n", "v")).toThrow(/v:1: expected 'VERSION SHA256 \[URL\]'/);
    expect(() => parseVersions(`6.6.60 ${SHA}\n6.6.60 ${SHA}\n`, "v")).toThrow(/pinned twice/);
  });

  it("tells versions from paths", () => {
    for (const v of ["6.1", "6.6.60", "6.12-rc3", "6.1.192-debian3"]) expect(looksLikeVersion(v)).toBe(true);
    for (const p of ["/usr/src/linux.tar.xz", "./linux", "linux-6.1", "6"])
      expect(looksLikeVersion(p)).toBe(false);
  });

  it("the repository's versions.conf parses", () => {
    const path = join(defaultKernelDataDir(), "versions.conf");
    const pins = parseVersions(readFileSync(path, "utf8"), path);
    expect(pins.get("6.1.192-debian3")?.url).toBe("file:///usr/src/linux-source-6.1.tar.xz");
  });
});
