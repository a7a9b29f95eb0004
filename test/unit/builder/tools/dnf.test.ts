import { describe, expect, it } from "vitest";
import { installArgs, mainConfig, pickRpmManager } from "../../../../builder/src/tools/dnf.js";

const req = {
  installRoot: "/build/root",
  releasever: "3.0",
  configFile: "/build/work/dnf.conf",
  cacheDir: "/cache/azurelinux",
  packages: ["filesystem", "nodejs"],
};

describe("tdnf / dnf command lines", () => {
  it("prefers tdnf when it is on PATH", () => {
    expect(pickRpmManager((t) => (t === "tdnf" ? "/usr/bin/tdnf" : undefined))).toBe("tdnf");
    expect(pickRpmManager(() => undefined)).toBe("dnf");
  });

  it("builds dnf's install arguments with = options and no plugins", () => {
    expect(installArgs({ ...req, manager: "dnf" })).toEqual([
      "-y",
      "--installroot=/build/root",
      "--releasever=3.0",
      "--config=/build/work/dnf.conf",
      "--setopt=cachedir=/cache/azurelinux",
      "--noplugins",
      "install",
      "filesystem",
      "nodejs",
    ]);
  });

  it("builds tdnf's install arguments with separate values, --nodocs, and plugins left on", () => {
    expect(installArgs({ ...req, manager: "tdnf", repos: ["azurelinux-official-base"] })).toEqual([
      "-y",
      "--installroot",
      "/build/root",
      "--releasever",
      "3.0",
      "--config",
      "/build/work/dnf.conf",
      "--setopt=cachedir=/cache/azurelinux",
      "--nodocs",
      "--disablerepo=*",
      "--enablerepo=azurelinux-official-base",
      "install",
      "filesystem",
      "nodejs",
    ]);
  });

  it("writes the repository directory under each manager's own key", () => {
    const config = { cacheDir: "/c", reposDir: "/r", keepCache: true };
    expect(mainConfig("dnf", config)).toMatch(/^reposdir=\/r$/m);
    expect(mainConfig("tdnf", config)).toMatch(/^repodir=\/r$/m);
    expect(mainConfig("tdnf", config)).not.toMatch(/reposdir/);
    for (const m of ["dnf", "tdnf"] as const) {
      expect(mainConfig(m, config)).toMatch(/^gpgcheck=1$/m);
      expect(mainConfig(m, config)).toMatch(/^keepcache=1$/m);
    }
  });
});
