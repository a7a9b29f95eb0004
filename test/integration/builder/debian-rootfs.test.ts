// The Debian flavour for real: mmdebstrap from Debian's archive, the agent laid in, and the
// distribution's node running the agent bundle inside the root; iptables, crun and runc run
// there too. A warm build copies the cached base tree and gives the same tarball; a cached
// tree whose packages are out of date is bootstrapped again, to the same bytes.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildRootfs } from "../../../builder/src/pipelines/rootfs.js";
import { Progress } from "../../../builder/src/util/progress.js";
import { type DebianRootfs, debianConfig, debianRootfs, packageCache } from "../../helpers/builder-debian.js";

let rootfs: DebianRootfs;
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

/**
 * Runs `command` in the root with /proc mounted (crun and runc re-execute through it) and /run
 * and /tmp on tmpfs as in the guest, so nothing it writes stays in the shared tree.
 */
function inRoot(root: string, command: string): string {
  return execFileSync(
    "unshare",
    [
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      `mount -t proc proc "$0/proc" && mount -t tmpfs tmpfs "$0/run" && mount -t tmpfs tmpfs "$0/tmp" && chroot "$0" ${command}`,
      root,
    ],
    { encoding: "utf8", timeout: 60_000 },
  );
}

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

  it("has crun, runc, ip, iptables and mkfs.ext4, and no docs, man pages, locales or package database", () => {
    for (const bin of [
      "usr/bin/crun",
      "usr/sbin/runc",
      "usr/bin/ip",
      "usr/sbin/mkfs.ext4",
      "usr/sbin/iptables-save",
      "usr/sbin/iptables-restore",
      "usr/sbin/ip6tables-save",
      "usr/sbin/ip6tables-restore",
    ]) {
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

  it("runs iptables-save/-restore (both address families), crun and runc in the root", () => {
    expect(inRoot(rootfs.root, "/usr/sbin/iptables-save --version")).toMatch(/^iptables-save v1\.8/);
    expect(inRoot(rootfs.root, "/usr/sbin/iptables-restore --version")).toMatch(/^iptables-restore v1\.8/);
    expect(inRoot(rootfs.root, "/usr/sbin/ip6tables-save --version")).toMatch(/^ip6tables-save v1\.8/);
    expect(inRoot(rootfs.root, "/usr/sbin/ip6tables-restore --version")).toMatch(/^ip6tables-restore v1\.8/);
    expect(inRoot(rootfs.root, "crun --version")).toMatch(/^crun version /);
    expect(inRoot(rootfs.root, "runc --version")).toMatch(/^runc version /);
    // No recommends: iptables' nftables was not installed.
    expect(existsSync(join(rootfs.root, "usr/sbin/nft"))).toBe(false);
  });

  it("leaves out what only the package manager used, iconv modules, static libraries and the host's name", () => {
    for (const gone of [
      "usr/bin/perl",
      "usr/bin/dpkg",
      "usr/bin/debconf",
      "usr/share/perl5",
      "usr/lib/x86_64-linux-gnu/perl-base",
      "usr/lib/x86_64-linux-gnu/gconv",
      "usr/lib/x86_64-linux-gnu/libcrun.a",
      "usr/share/nodejs/@types",
      "etc/hostname",
    ]) {
      expect(existsSync(join(rootfs.root, gone)), gone).toBe(false);
    }
    // What node needs from /usr/share/nodejs stays (fetch and CommonJS interop).
    expect(existsSync(join(rootfs.root, "usr/share/nodejs/undici"))).toBe(true);
    expect(existsSync(join(rootfs.root, "usr/share/nodejs/cjs-module-lexer"))).toBe(true);
  });

  it("starts the agent with systemd: unit, target and wiring", () => {
    const unit = readFileSync(join(rootfs.root, "usr/lib/systemd/system/kata-agent.service"), "utf8");
    expect(unit).toMatch(/^OOMScoreAdjust=-997$/m);
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/kata-agent$/m);
    expect(
      readlinkSync(join(rootfs.root, "etc/systemd/system/basic.target.wants/kata-containers.target")),
    ).toBe("/usr/lib/systemd/system/kata-containers.target");
    expect(existsSync(join(rootfs.root, "usr/lib/systemd/system/systemd-journald.service"))).toBe(false);
    expect(existsSync(join(rootfs.root, "usr/lib/systemd/systemd-networkd"))).toBe(false);
    expect(lstatSync(join(rootfs.root, "etc/resolv.conf")).isFile()).toBe(true);
  });

  it("trims systemd to what a Kata guest runs: no logind, no module loading, no maintenance timers", () => {
    for (const unit of [
      "systemd-logind.service",
      "modprobe@.service",
      "dev-hugepages.mount",
      "fstrim.timer",
    ]) {
      expect(readlinkSync(join(rootfs.root, "etc/systemd/system", unit)), unit).toBe("/dev/null");
    }
    // Settings fixed at build time (the policy) reach the service through an environment file.
    expect(
      readFileSync(join(rootfs.root, "etc/systemd/system/kata-agent.service.d/environment.conf"), "utf8"),
    ).toMatch(/^EnvironmentFile=-\/etc\/kata-agent\/environment$/m);
  });

  it("carries what production guests do: chrony on the PTP KVM clock, CA certificates, time zones, cryptsetup", () => {
    const conf = readFileSync(join(rootfs.root, "etc/chrony/chrony.conf"), "utf8");
    expect(conf).toMatch(/^refclock PHC \/dev\/ptp0 poll 3 dpoll -2 offset 0$/m);
    expect(conf).not.toMatch(/^pool /m);
    // chronyd itself accepts the configuration.
    expect(inRoot(rootfs.root, "/usr/sbin/chronyd -p -f /etc/chrony/chrony.conf")).toContain(
      "refclock PHC /dev/ptp0",
    );
    const dropIn = readFileSync(join(rootfs.root, "etc/systemd/system/chrony.service.d/kata.conf"), "utf8");
    expect(dropIn).toMatch(/^ConditionPathExists=\/dev\/ptp0$/m);
    // kata-containers.target wants chronyd.service: Debian names it chrony.service, with this alias.
    expect(readlinkSync(join(rootfs.root, "etc/systemd/system/chronyd.service"))).toMatch(/chrony\.service$/);
    expect(statSync(join(rootfs.root, "etc/ssl/certs/ca-certificates.crt")).size).toBeGreaterThan(100_000);
    expect(existsSync(join(rootfs.root, "usr/share/zoneinfo/Europe/Berlin"))).toBe(true);
    expect(inRoot(rootfs.root, "/sbin/cryptsetup --version")).toMatch(/^cryptsetup 2\./);
  });

  it("records a manifest and an SPDX 2.3 SBOM of the installed packages", () => {
    const sbom = JSON.parse(readFileSync(join(rootfs.out, "rootfs.spdx.json"), "utf8"));
    expect(sbom.spdxVersion).toBe("SPDX-2.3");
    const names = sbom.packages.map((p: { name: string }) => p.name);
    for (const n of ["nodejs", "crun", "runc", "iproute2", "e2fsprogs", "iptables", "systemd"])
      expect(names).toContain(n);
    expect(names).not.toContain("nftables");
    expect(sbom.packages[0].externalRefs[0].referenceLocator).toMatch(/^pkg:deb\/debian\//);
    const m = rootfs.manifest as {
      agent: { version: string };
      guestNode: { version: string };
      outputs: Array<{ name: string; sha256?: string }>;
    };
    expect(m.agent.version).toMatch(/^kata-agent /);
    // The guest's own node (Debian's), run inside the tree: not the node that ran the build.
    const debianNode = execFileSync(
      "/usr/sbin/chroot",
      [rootfs.root, "/usr/bin/node", "-p", "process.version"],
      {
        encoding: "utf8",
        env: { PATH: "/usr/bin:/bin" },
      },
    ).trim();
    expect(m.guestNode.version).toBe(debianNode);
    expect(m.guestNode.version).toMatch(/^v18\./);
    const tar = m.outputs.find((o) => o.name === "rootfs.tar");
    expect(tar?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(execFileSync("sha256sum", [rootfs.tar], { encoding: "utf8" }).split(" ")[0]).toBe(tar?.sha256);
  });
});

describe("kata-build rootfs --distro debian with a warm cache", () => {
  const quiet = new Progress({ quiet: true });
  const install = (m: Record<string, unknown>) =>
    (m.packages as { install: { base: { key: string; reused: boolean }; lists: { refreshed: boolean } } })
      .install;
  let first: { tar: string; manifest: Record<string, unknown> };

  it(
    "copies the cached base tree when nothing changed, giving the same tarball",
    async () => {
      const outs = [mkdtempSync(join(tmpdir(), "kb-deb-")), mkdtempSync(join(tmpdir(), "kb-deb-"))];
      const results = [];
      for (const out of outs) results.push(await buildRootfs(debianConfig(out), quiet));
      const second = install(results[1]!.manifest);
      expect(second.base.reused).toBe(true);
      expect(second.lists.refreshed).toBe(false);
      expect(install(results[0]!.manifest).base.key).toBe(second.base.key);
      expect(sha(join(outs[1]!, "rootfs.tar"))).toBe(sha(join(outs[0]!, "rootfs.tar")));
      first = { tar: join(outs[0]!, "rootfs.tar"), manifest: results[0]!.manifest };
      rmSync(outs[1]!, { recursive: true, force: true });
    },
    10 * 60_000,
  );

  it(
    "bootstraps again when a package in the cached tree is out of date, to the same bytes",
    async () => {
      // A copy of the shared cache whose base tree claims an older libc6.
      const cache = mkdtempSync(join(tmpdir(), "kb-deb-cache-"));
      execFileSync("cp", ["-a", "--reflink=auto", join(packageCache, "debian"), join(cache, "debian")]);
      const key = install(first.manifest).base.key;
      const recordFile = join(cache, "debian", "base", key, "record.json");
      const record = JSON.parse(readFileSync(recordFile, "utf8"));
      const libc = record.installed.find((p: { name: string }) => p.name === "libc6");
      libc.version = "2.36-0";
      writeFileSync(recordFile, JSON.stringify(record));
      // Other package sets' trees (an agent-as-init root's, say) may share the cache.
      const trees = readdirSync(join(cache, "debian", "base")).sort();
      const lines: string[] = [];
      const out = mkdtempSync(join(tmpdir(), "kb-deb-"));
      const result = await buildRootfs(
        debianConfig(out, "systemd", { cache }),
        new Progress({ write: (l) => lines.push(l) }),
      );
      expect(install(result.manifest).base.reused).toBe(false);
      expect(lines.join("\n")).toMatch(/out of date \(libc6 2\.36-0 -> /);
      expect(sha(join(out, "rootfs.tar"))).toBe(sha(first.tar));
      // The entry was replaced by one that is current again.
      expect(JSON.parse(readFileSync(recordFile, "utf8")).installed).toContainEqual(
        expect.objectContaining({ name: "libc6", version: expect.not.stringMatching(/^2\.36-0$/) }),
      );
      expect(trees).toContain(key);
      expect(readdirSync(join(cache, "debian", "base")).sort()).toEqual(trees);
      rmSync(cache, { recursive: true, force: true });
      rmSync(out, { recursive: true, force: true });
      rmSync(join(first.tar, ".."), { recursive: true, force: true });
    },
    10 * 60_000,
  );
});

describe("kata-build rootfs --node", () => {
  const quiet = new Progress({ quiet: true });

  it(
    "lays the given Node.js in as /usr/bin/node, and the agent runs on it in the root",
    async () => {
      const out = mkdtempSync(join(tmpdir(), "kb-node-"));
      try {
        const result = await buildRootfs(
          debianConfig(out, "systemd", { fromTar: rootfs.tar, node: process.execPath, tar: false }),
          quiet,
        );
        const root = join(out, "rootfs");
        // The tarball's /usr/bin/node (Debian's) was replaced, not written through.
        expect(sha(join(root, "usr/bin/node"))).toBe(sha(process.execPath));
        expect(sha(join(rootfs.root, "usr/bin/node"))).not.toBe(sha(process.execPath));
        expect(result.manifest.node).toEqual({
          source: process.execPath,
          version: process.version,
          sha256: sha(process.execPath),
        });
        expect(inRoot(root, "/usr/bin/node -p process.version").trim()).toBe(process.version);
        expect(inRoot(root, "/usr/bin/kata-agent --version")).toContain(`node ${process.version}`);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
    5 * 60_000,
  );

  it(
    "refuses a Node.js older than the agent needs, or a file that is not executable, and leaves no output",
    async () => {
      const out = mkdtempSync(join(tmpdir(), "kb-node-"));
      const old = join(out, "node16");
      writeFileSync(old, "#!/bin/sh\necho v16.20.2\n", { mode: 0o755 });
      try {
        await expect(
          buildRootfs(debianConfig(join(out, "out"), "systemd", { fromTar: rootfs.tar, node: old }), quiet),
        ).rejects.toThrow(/is Node\.js v16\.20\.2; the agent needs 18 or later/);
        chmodSync(old, 0o644);
        await expect(
          buildRootfs(debianConfig(join(out, "out"), "systemd", { fromTar: rootfs.tar, node: old }), quiet),
        ).rejects.toThrow(/--node .* is not executable/);
        expect(existsSync(join(out, "out", "rootfs"))).toBe(false);
        expect(existsSync(join(out, "out", "rootfs.manifest.json"))).toBe(false);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
    5 * 60_000,
  );
});
