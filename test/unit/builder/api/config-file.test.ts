import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadBuildConfig } from "../../../../builder/src/api/config-file.js";

function file(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "kata-build-config-"));
  const at = path.join(dir, "kata-build.toml");
  writeFileSync(at, text);
  return at;
}

const EXAMPLE = `
[rootfs]
distro = "debian"
agent-init = true
package = ["jq"]
node = "bin/node"

[image]
fs = "erofs"
verity = true

[kernel]
feature = ["erofs"]

[profiles.debug.rootfs]
package = ["jq", "strace"]

[profiles.debug.image]
verity = false
`;

describe("kata-build.toml", () => {
  it("gives each command its table, paths taken from the file's directory", async () => {
    const at = file(EXAMPLE);
    const config = await loadBuildConfig(at);
    expect(config.rootfs).toEqual({
      distro: "debian",
      agentInit: true,
      package: ["jq"],
      node: path.join(path.dirname(at), "bin/node"),
    });
    expect(config.image).toEqual({ fs: "erofs", verity: true });
    expect(config.kernel).toEqual({ feature: ["erofs"] });
  });

  it("lays a profile over the tables", async () => {
    const config = await loadBuildConfig(file(EXAMPLE), { profile: "debug" });
    expect(config.rootfs?.package).toEqual(["jq", "strace"]);
    expect(config.rootfs?.distro).toBe("debian");
    expect(config.image).toEqual({ fs: "erofs", verity: false });
  });

  it("names the file and the key of every mistake", async () => {
    const at = file('[image]\nfs = "erofs"\nveritty = true\n');
    await expect(loadBuildConfig(at)).rejects.toThrow(
      `unknown key 'veritty' in [image] of ${at} (did you mean 'verity'?)`,
    );
    const wrongType = file("[image]\nverity = 1\n");
    await expect(loadBuildConfig(wrongType)).rejects.toThrow(
      `'verity' in [image] of ${wrongType} must be true or false, not 1`,
    );
    const badChoice = file('[rootfs]\ndistro = "fedora"\n');
    await expect(loadBuildConfig(badChoice)).rejects.toThrow(
      `'distro' in [rootfs] of ${badChoice}: 'fedora' is not one of`,
    );
    const badTable = file("[imgae]\nverity = true\n");
    await expect(loadBuildConfig(badTable)).rejects.toThrow(
      `${badTable}: unknown table [imgae] (did you mean 'image'?)`,
    );
    // A profile is checked even when another is chosen.
    const badProfile = file("[profiles.x.image]\nfs = 3\n");
    await expect(loadBuildConfig(badProfile)).rejects.toThrow(
      `'fs' in [profiles.x.image] of ${badProfile} must be a string`,
    );
    await expect(loadBuildConfig(file(EXAMPLE), { profile: "debgu" })).rejects.toThrow(
      "has no profile 'debgu' (did you mean 'debug'?); its profiles: debug",
    );
    await expect(loadBuildConfig(file("[image\n"))).rejects.toThrow("is not valid TOML");
    await expect(loadBuildConfig("/nonexistent/kata-build.toml")).rejects.toThrow(
      "cannot read the configuration file /nonexistent/kata-build.toml: ENOENT",
    );
  });
});
