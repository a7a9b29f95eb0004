// The Azure Linux path end to end through the real dnf and rpm, against a local repository
// the test builds and signs (packages.microsoft.com is not reachable here); --mirror takes the
// same code path as the official repositories, with package and metadata GPG checks on.

import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRootfs, type RootfsConfig } from "../../../builder/src/pipelines/rootfs.js";
import { BuildError } from "../../../builder/src/util/errors.js";
import { dataDir } from "../../../builder/src/util/paths.js";
import { Progress } from "../../../builder/src/util/progress.js";
import { agentDir, ensureAgentBuilt } from "../../helpers/builder-agent.js";
import {
  buildRpm,
  buildRpmRepo,
  indexRepo,
  packageNames,
  type RpmRepo,
  signRpms,
} from "../../helpers/builder-rpmrepo.js";

let repo: RpmRepo;
let work: string;
const quiet = new Progress({ quiet: true });

function config(over: Partial<RootfsConfig>): RootfsConfig {
  return {
    distro: "azurelinux",
    init: "systemd",
    out: mkdtempSync(join(tmpdir(), "kb-azl-out-")),
    name: "rootfs",
    data: dataDir(),
    cache: join(work, "cache"),
    agentDir,
    mirror: repo.repo,
    gpgKey: repo.key,
    repoGpgcheck: true,
    tar: false,
    keepPackageDb: false,
    extraPackages: [],
    epoch: 1700000000,
    ...over,
  };
}

beforeAll(() => {
  ensureAgentBuilt();
  work = mkdtempSync(join(tmpdir(), "kb-azl-"));
  repo = buildRpmRepo(work, packageNames(dataDir()));
}, 300_000);

describe("kata-build rootfs --distro azurelinux (dnf against a signed local mirror)", () => {
  it("installs the package lists, lays in the agent, strips docs and the rpm database, writes an SBOM", async () => {
    const c = config({ tar: true });
    const result = await buildRootfs(c, quiet);
    const root = join(c.out, "rootfs");
    expect(result.artifacts.sort()).toEqual([
      "rootfs",
      "rootfs.manifest.json",
      "rootfs.spdx.json",
      "rootfs.tar",
    ]);
    expect(existsSync(join(root, "usr/lib/kata-agent/kata-agent.mjs"))).toBe(true);
    expect(existsSync(join(root, "usr/lib/kata-agent/kata_native.node"))).toBe(true);
    expect(existsSync(join(root, "usr/bin/crun-standin"))).toBe(true);
    expect(readlinkSync(join(root, "usr/sbin/init"))).toBe("../lib/systemd/systemd");
    expect(existsSync(join(root, "usr/lib/systemd/system/kata-agent.service"))).toBe(true);
    expect(existsSync(join(root, "usr/lib/systemd/system/systemd-journald.service"))).toBe(false);
    expect(existsSync(join(root, "usr/share/doc/nodejs/README"))).toBe(false); // %doc: never installed
    expect(readdirSync(join(root, "usr/share/locale"))).toEqual([]);
    expect(existsSync(join(root, "var/lib/rpm"))).toBe(false);
    const sbom = JSON.parse(readFileSync(join(c.out, "rootfs.spdx.json"), "utf8"));
    type SpdxPackage = { name: string; externalRefs: { referenceLocator: string }[] };
    const rpms = sbom.packages.filter((p: SpdxPackage) =>
      p.externalRefs[0]!.referenceLocator.startsWith("pkg:rpm/"),
    );
    expect(rpms.map((p: SpdxPackage) => p.name).sort()).toEqual(packageNames(dataDir()).sort());
    // Beside the distribution's packages: the agent and the npm packages bundled into it.
    expect(sbom.packages.map((p: SpdxPackage) => p.name)).toContain("kata-agent");
    const node = sbom.packages.find((p: { name: string }) => p.name === "nodejs");
    expect(node.versionInfo).toBe("1.0-1.azl3");
    expect(node.licenseDeclared).toBe("MIT");
    expect(node.externalRefs[0].referenceLocator).toBe("pkg:rpm/azurelinux/nodejs@1.0-1.azl3?arch=noarch");
    const manifest = result.manifest as {
      packages: {
        sources: { manager: string; gpg: { fingerprints: string[] }; repositories: { url: string }[] };
      };
    };
    expect(manifest.packages.sources.manager).toBe("dnf");
    expect(manifest.packages.sources.gpg.fingerprints).toEqual([repo.fingerprint]);
    expect(manifest.packages.sources.repositories[0]!.url).toBe(`file://${repo.repo}`);
    // dnf's metadata cache lives in the shared cache, not in the root.
    expect(
      readdirSync(join(work, "cache", "azurelinux")).some((n) => n.startsWith("kata-build-mirror")),
    ).toBe(true);
  });

  it("builds the agent-as-init flavour without systemd, and keeps the rpm database on request", async () => {
    const c = config({ init: "agent", keepPackageDb: true });
    await buildRootfs(c, quiet);
    const root = join(c.out, "rootfs");
    expect(readlinkSync(join(root, "usr/sbin/init"))).toBe("/usr/bin/kata-agent");
    expect(existsSync(join(root, "usr/lib/systemd"))).toBe(false);
    const listed = execFileSync(
      "rpm",
      ["--root", root, "--dbpath", "/var/lib/rpm", "-qa", "--qf", "%{NAME}\\n"],
      {
        encoding: "utf8",
      },
    );
    expect(listed.split("\n").filter(Boolean).sort()).not.toContain("systemd");
    expect(listed).toContain("nodejs");
  });

  it("refuses an unsigned package and a tampered one", async () => {
    for (const kind of ["unsigned", "tampered"] as const) {
      const mirror = join(work, `repo-${kind}`);
      cpSync(repo.repo, mirror, { recursive: true });
      const rpm = buildRpm(join(work, kind), "extra-tool");
      if (kind === "tampered") {
        signRpms(repo.gnupg, [rpm]);
        const bytes = readFileSync(rpm);
        bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff; // inside the payload
        writeFileSync(rpm, bytes);
      }
      cpSync(rpm, join(mirror, "extra-tool-1.0-1.azl3.noarch.rpm"));
      indexRepo(repo.gnupg, mirror); // metadata matches the bad file; only the rpm checks can catch it
      const c = config({ mirror, extraPackages: ["extra-tool"] });
      const err = await buildRootfs(c, quiet).catch((e: unknown) => e);
      expect(err, kind).toBeInstanceOf(BuildError);
      expect((err as BuildError).message).toMatch(
        /installing \d+ packages with dnf: dnf exited with status [1-9]/,
      );
      expect(readdirSync(c.out), kind).toEqual([]);
    }
  });

  it("names an unreachable repository and suggests --mirror", async () => {
    const err = await buildRootfs(config({ mirror: "http://127.0.0.1:9/azurelinux/3.0" }), quiet).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).message).toContain("http://127.0.0.1:9/azurelinux/3.0/repodata/repomd.xml");
    expect((err as BuildError).hint).toContain("--mirror");
  });

  it("checks the official repositories' key by its fingerprint", async () => {
    // No Microsoft key on this machine: the default path stops before any download.
    const err = await buildRootfs(config({ mirror: undefined, gpgKey: undefined }), quiet).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).message).toContain("2BC94FFF7015A5F28F1537AD0CD9FED33135CE90");
    // A key with another fingerprint at the default location is rejected.
    const data = mkdtempSync(join(tmpdir(), "kb-data-"));
    cpSync(dataDir(), data, { recursive: true });
    cpSync(repo.key, join(data, "azurelinux", "keys", "MICROSOFT-RPM-GPG-KEY"));
    const wrong = await buildRootfs(config({ data, mirror: undefined, gpgKey: undefined }), quiet).catch(
      (e: unknown) => e,
    );
    expect((wrong as BuildError).message).toMatch(/is not the Azure Linux signing key/);
  });
});

describe("after the builds", () => {
  it("leaves no gpg-agent running for the repository keyrings dnf checked signatures with", () => {
    const cache = join(work, "cache");
    // The builds above did check signatures with keyrings in the cache.
    expect(execFileSync("find", [cache, "-name", "pubring", "-type", "d"], { encoding: "utf8" })).not.toBe(
      "",
    );
    const agents = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
      .split("\n")
      .filter((line) => line.includes("gpg-agent") && line.includes(cache));
    expect(agents).toEqual([]);
  });
});

afterAll(() => {
  // The test's own signing key has an agent too.
  if (repo) execFileSync("gpgconf", ["--homedir", repo.gnupg, "--kill", "gpg-agent"]);
});
