// The Debian flavour for real: mmdebstrap from Debian's archive, the agent laid in, and the
// distribution's node running the agent bundle inside the root.
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type DebianRootfs, debianRootfs } from "../../helpers/builder-debian.js";

let rootfs: DebianRootfs;

beforeAll(async () => {
  rootfs = await debianRootfs("systemd");
  if (rootfs.buildSeconds)
    process.stderr.write(`debian rootfs built in ${rootfs.buildSeconds.toFixed(1)} s\n`);
}, 15 * 60_000);

describe("kata-build rootfs --distro debian", () => {
  it("holds a node that runs the agent bundle", () => {
    const out = execFileSync(
      "chroot",
      [rootfs.root, "node", "/usr/lib/kata-agent/kata-agent.mjs", "--version"],
      {
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect(out).toMatch(/^kata-agent /);
    const wrapper = execFileSync("chroot", [rootfs.root, "/usr/bin/kata-agent", "--version"], {
      encoding: "utf8",
    });
    expect(wrapper).toBe(out);
    expect(existsSync(join(rootfs.root, "usr/lib/kata-agent/kata_native.node"))).toBe(true);
  });

  it("has crun, runc, ip and mkfs.ext4, and no docs, man pages, locales or package database", () => {
    for (const bin of ["usr/bin/crun", "usr/sbin/runc", "usr/bin/ip", "usr/sbin/mkfs.ext4"]) {
      expect(existsSync(join(rootfs.root, bin)), bin).toBe(true);
    }
    for (const gone of ["usr/share/doc", "usr/share/man", "usr/share/locale"]) {
      const p = join(rootfs.root, gone);
      expect(!existsSync(p) || execFileSync("ls", ["-A", p], { encoding: "utf8" }) === "", gone).toBe(true);
    }
    expect(existsSync(join(rootfs.root, "var/lib/dpkg"))).toBe(false);
    expect(existsSync(join(rootfs.root, "var/cache/apt"))).toBe(false);
    expect(readlinkSync(join(rootfs.root, "var/tmp"))).toBe("../tmp");
  });

  it("starts the agent with systemd: unit, target and wiring", () => {
    const unit = readFileSync(join(rootfs.root, "usr/lib/systemd/system/kata-agent.service"), "utf8");
    expect(unit).toMatch(/^OOMScoreAdjust=-997$/m);
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/kata-agent$/m);
    expect(
      readlinkSync(join(rootfs.root, "etc/systemd/system/basic.target.wants/kata-containers.target")),
    ).toBe("/usr/lib/systemd/system/kata-containers.target");
    expect(existsSync(join(rootfs.root, "usr/lib/systemd/system/systemd-journald.service"))).toBe(false);
    expect(lstatSync(join(rootfs.root, "etc/resolv.conf")).isFile()).toBe(true);
  });

  it("records a manifest and an SPDX 2.3 SBOM of the installed packages", () => {
    const sbom = JSON.parse(readFileSync(join(rootfs.out, "rootfs.spdx.json"), "utf8"));
    expect(sbom.spdxVersion).toBe("SPDX-2.3");
    const names = sbom.packages.map((p: { name: string }) => p.name);
    for (const n of ["nodejs", "crun", "runc", "iproute2", "e2fsprogs", "systemd"])
      expect(names).toContain(n);
    expect(sbom.packages[0].externalRefs[0].referenceLocator).toMatch(/^pkg:deb\/debian\//);
    const m = rootfs.manifest as {
      agent: { version: string };
      outputs: Array<{ name: string; sha256?: string }>;
    };
    expect(m.agent.version).toMatch(/^kata-agent /);
    const tar = m.outputs.find((o) => o.name === "rootfs.tar");
    expect(tar?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(execFileSync("sha256sum", [rootfs.tar], { encoding: "utf8" }).split(" ")[0]).toBe(tar?.sha256);
  });
});
