// apt on a private state directory: the configuration keeps the host's apt settings out, and
// the two outputs kata-build reads (apt-cache policy, Packages indices) are parsed exactly.
import { describe, expect, it } from "vitest";
import { aptConfig, parsePolicy, seedPackages } from "../../../../builder/src/tools/apt.js";

describe("apt on kata-build's own state", () => {
  it("points every directory at the state, and reads no host configuration, sources or pins", () => {
    const conf = aptConfig({ dir: "/c/apt/x", sources: [], arch: "amd64" });
    expect(conf).toContain('Dir::State::Lists "/c/apt/x/lists";');
    expect(conf).toContain('Dir::State::status "/c/apt/x/status";');
    expect(conf).toContain('Dir::Etc::main "/dev/null";');
    expect(conf).toContain('Dir::Etc::SourceList "/c/apt/x/etc/sources.list";');
    expect(conf).toContain('Dir::Etc::PreferencesParts "/c/apt/x/etc/preferences.d";');
    expect(conf).toContain('Dir::Etc::Parts "/c/apt/x/etc/apt.conf.d";');
    expect(conf).toContain('APT::Architectures { "amd64"; };');
    // The host's archive keys stay in use: trusted.gpg.d is not redirected.
    expect(conf).not.toMatch(/Trusted/);
  });

  it("reads candidate versions from apt-cache policy, (none) as missing", () => {
    const out = [
      "libc6:",
      "  Installed: (none)",
      "  Candidate: 2.36-9+deb12u14",
      "  Version table:",
      "     2.36-9+deb12u14 500",
      "        500 http://deb.debian.org/debian bookworm/main amd64 Packages",
      "libfoo:amd64:",
      "  Installed: (none)",
      "  Candidate: (none)",
      "  Version table:",
      "nodejs:",
      "  Installed: (none)",
      "  Candidate: 18.20.4+dfsg-1~deb12u3",
      "",
    ].join("\n");
    expect([...parsePolicy(out)]).toEqual([
      ["libc6", "2.36-9+deb12u14"],
      ["libfoo", undefined],
      ["nodejs", "18.20.4+dfsg-1~deb12u3"],
    ]);
  });

  it("finds the essential and required packages of a Packages index", () => {
    const index = [
      "Package: base-files",
      "Essential: yes",
      "Priority: required",
      "Version: 12.4",
      "",
      "Package: nodejs",
      "Priority: optional",
      "Description: Essential: yes is not a field here",
      "",
      "Package: libc6",
      "Priority: required",
      "",
      "Package: dash",
      "Version: 0.5",
      "Essential: yes",
      "",
    ].join("\n");
    expect(seedPackages(index)).toEqual(["base-files", "dash", "libc6"]);
  });
});
