// Azure Linux 3.0 through tdnf (on Azure Linux hosts) or dnf (elsewhere), installing into an
// empty root with --installroot. The official repositories and the signing key's fingerprint
// are data in rootfs/azurelinux/; `mirror` swaps them for one local or remote repository (a
// createrepo_c directory in the tests) through exactly the same code path.
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { InstalledPackage } from "../formats/spdx.js";
import * as dnf from "../tools/dnf.js";
import * as gpg from "../tools/gpg.js";
import * as rpm from "../tools/rpm.js";
import { check } from "../tools/run.js";
import { BuildError } from "../util/errors.js";
import { distroConfig } from "./package-lists.js";
import { requireReachable } from "./repo-probe.js";
import type { Distro, DistroOptions, SourcesRecord } from "./types.js";

const archNames: Record<string, string> = { x64: "x86_64", arm64: "aarch64" };
export const basearch = (arch: string = process.arch): string => archNames[arch] ?? arch;

interface RepoSection {
  id: string;
  body: Map<string, string>;
}

/** Minimal .repo (INI) reader: sections with key=value lines. */
export function parseRepoFile(text: string): RepoSection[] {
  const sections: RepoSection[] = [];
  let current: RepoSection | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head) {
      current = { id: head[1]!, body: new Map() };
      sections.push(current);
    } else if (current) {
      const eq = line.indexOf("=");
      if (eq > 0) current.body.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
    }
  }
  return sections;
}

export function expandVars(url: string, releasever: string, arch: string): string {
  return url.replace(/\$releasever/g, releasever).replace(/\$basearch/g, arch);
}

/** The .repo text for a mirror given as a directory or URL. */
export function mirrorRepo(mirror: string, keyFile: string, repoGpgcheck: boolean): string {
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(mirror) ? mirror : pathToFileURL(resolve(mirror)).href;
  return [
    "[kata-build-mirror]",
    "name=kata-build mirror",
    `baseurl=${url}`,
    `gpgkey=${pathToFileURL(keyFile).href}`,
    "gpgcheck=1",
    `repo_gpgcheck=${repoGpgcheck ? 1 : 0}`,
    "enabled=1",
    "skip_if_unavailable=False",
    "",
  ].join("\n");
}

async function resolveKey(options: DistroOptions, fingerprint: string, keyPaths: string[]) {
  if (options.gpgKey) {
    const file = resolve(options.gpgKey);
    const { ok, fingerprints } = await gpg.keyFingerprints(file);
    if (!ok || !fingerprints.length) throw new BuildError(`--gpg-key ${file} holds no readable OpenPGP key`);
    return { keyFile: file, fingerprints };
  }
  const candidates = keyPaths.map((p) => (isAbsolute(p) ? p : join(options.data, "azurelinux", p)));
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new BuildError(
      `the Azure Linux signing key (fingerprint ${fingerprint}) was not found at ${candidates.join(" or ")}`,
      "copy /etc/pki/rpm-gpg/MICROSOFT-RPM-GPG-KEY from an Azure Linux 3.0 system to rootfs/azurelinux/keys/, or pass --gpg-key FILE (see rootfs/azurelinux/keys/README.md)",
    );
  }
  const { fingerprints } = await gpg.keyFingerprints(found);
  if (!fingerprints.includes(fingerprint)) {
    throw new BuildError(
      `${found} is not the Azure Linux signing key: fingerprint ${fingerprints.join(", ") || "unreadable"}, expected ${fingerprint}`,
      "replace the file with the genuine key, or pass --gpg-key FILE for a mirror signed with another key",
    );
  }
  return { keyFile: found, fingerprints };
}

export const azurelinux: Distro = {
  name: "azurelinux",
  packageDbPaths: [
    "var/lib/rpm",
    "var/lib/dnf",
    "var/lib/tdnf",
    "var/cache/dnf",
    "var/cache/tdnf",
    "etc/dnf",
  ],

  async setup(options): Promise<SourcesRecord> {
    const config = await distroConfig(options.data, "azurelinux");
    const releasever = String(config.releasever ?? "3.0");
    const gpgConfig = (config.gpg ?? {}) as { fingerprint?: string; key_paths?: string[] };
    const key = await resolveKey(options, String(gpgConfig.fingerprint ?? ""), gpgConfig.key_paths ?? []);
    const arch = basearch();

    const reposDir = join(options.work, "yum.repos.d");
    await mkdir(reposDir, { recursive: true });
    const repositories: SourcesRecord["repositories"] = [];
    if (options.mirror) {
      const text = mirrorRepo(options.mirror, key.keyFile, options.repoGpgcheck);
      await writeFile(join(reposDir, "kata-build-mirror.repo"), text);
    } else {
      const source = join(options.data, "azurelinux", "yum.repos.d");
      for (const name of (await readdir(source)).filter((n) => n.endsWith(".repo")).sort()) {
        const text = (await readFile(join(source, name), "utf8")).replaceAll("@GPGKEY@", key.keyFile);
        await writeFile(join(reposDir, name), text);
      }
    }
    for (const name of (await readdir(reposDir)).sort()) {
      for (const section of parseRepoFile(await readFile(join(reposDir, name), "utf8"))) {
        if (section.body.get("enabled") === "0") continue;
        const url = expandVars(section.body.get("baseurl") ?? "", releasever, arch);
        repositories.push({ id: section.id, url });
      }
    }
    for (const repo of repositories) {
      await requireReachable(
        `package repository ${repo.id}`,
        `${repo.url.replace(/\/$/, "")}/repodata/repomd.xml`,
        "pass --mirror URL|DIR to use a local or offline mirror of the Azure Linux 3.0 repositories",
      );
    }

    const manager = dnf.pickRpmManager();
    await mkdir(options.cache, { recursive: true });
    await writeFile(
      join(options.work, "dnf.conf"),
      dnf.mainConfig(manager, { cacheDir: options.cache, reposDir, keepCache: true }),
    );
    await mkdir(join(options.work, "home"), { recursive: true });
    await writeFile(join(options.work, "home", ".rpmmacros"), dnf.rpmMacros);
    return { manager, release: releasever, repositories, gpg: key };
  },

  async install(options, packages) {
    const config = await distroConfig(options.data, "azurelinux");
    const req: dnf.InstallRequest = {
      manager: dnf.pickRpmManager(),
      installRoot: options.root,
      releasever: String(config.releasever ?? "3.0"),
      configFile: join(options.work, "dnf.conf"),
      cacheDir: options.cache,
      packages,
    };
    const result = await dnf.install(req, join(options.work, "home"), {
      cancelSignal: options.signal,
      timeout: 60 * 60_000,
    });
    check(
      result,
      `installing ${packages.length} packages with ${req.manager}`,
      "a package that is missing, unsigned, or signed with another key stops the build; check --mirror and --gpg-key",
    );
    return undefined;
  },

  async packageFiles(root, packages) {
    if (!packages.length) return [];
    const result = check(await rpm.listFiles(root, packages), "listing the files of packages");
    return result.stdout.split("\n").filter((line) => line.startsWith("/"));
  },

  async installedPackages(root) {
    const result = check(await rpm.queryInstalled(root), "listing installed packages");
    return rpm
      .parseQuery(result.stdout)
      .filter((p) => p.name !== "gpg-pubkey")
      .map(
        (p): InstalledPackage => ({
          name: p.name,
          version: `${p.version}-${p.release}`,
          epoch: p.epoch,
          arch: p.arch,
          license: p.license,
          supplier: p.vendor,
          purlType: "rpm",
          purlNamespace: "azurelinux",
        }),
      );
  },
};
