// Debian through mmdebstrap: a second flavour that can be built (and booted) wherever Debian's
// archive is reachable. The archive's Release files are checked against the host's
// debian-archive-keyring by apt; downloaded .debs are kept in the shared cache.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { InstalledPackage } from "../formats/spdx.js";
import * as dpkg from "../tools/dpkg.js";
import * as mmdebstrap from "../tools/mmdebstrap.js";
import { check } from "../tools/run.js";
import { distroConfig } from "./package-lists.js";
import { requireReachable } from "./repo-probe.js";
import type { Distro, DistroOptions, SourcesRecord } from "./types.js";

const MERGED_USR_HOOK = "/usr/share/mmdebstrap/hooks/merged-usr";

interface DebianConfig {
  suite: string;
  variant: string;
  mirrors: string[];
  excludes: string[];
}

async function readConfig(data: string): Promise<DebianConfig> {
  const c = await distroConfig(data, "debian");
  return {
    suite: String(c.suite ?? "bookworm"),
    variant: String(c.variant ?? "essential"),
    mirrors: (c.mirrors as string[] | undefined) ?? [],
    excludes: (c.path_excludes as string[] | undefined) ?? [],
  };
}

/** The sources.list lines: the configured ones, or one line for a mirror URL or directory. */
export function sourcesFor(config: DebianConfig, mirror?: string): string[] {
  if (!mirror) return config.mirrors;
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(mirror) ? mirror : pathToFileURL(resolve(mirror)).href;
  return [`deb ${url} ${config.suite} main`];
}

/** "deb URL SUITE COMPONENTS" -> URL/dists/SUITE/Release */
export function releaseUrl(line: string): { url: string; release: string } {
  const [, url = "", suite = ""] = line.split(/\s+/);
  return { url, release: `${url.replace(/\/$/, "")}/dists/${suite}/Release` };
}

export const debian: Distro = {
  name: "debian",
  packageDbPaths: ["var/lib/dpkg", "var/lib/apt", "var/cache/apt", "var/cache/debconf", "etc/apt"],

  async setup(options): Promise<SourcesRecord> {
    const config = await readConfig(options.data);
    const lines = sourcesFor(config, options.mirror);
    for (const line of lines) {
      const { release } = releaseUrl(line);
      await requireReachable(
        "Debian archive",
        release,
        "pass --mirror URL|DIR to use a local or offline mirror of the Debian archive",
      );
    }
    return {
      manager: "mmdebstrap",
      release: config.suite,
      repositories: lines.map((l) => ({ id: l.split(/\s+/)[2] ?? "", url: releaseUrl(l).url })),
    };
  },

  async install(options: DistroOptions, packages) {
    const config = await readConfig(options.data);
    const result = await mmdebstrap.bootstrap(
      {
        suite: config.suite,
        target: options.root,
        variant: options.variant ?? config.variant,
        include: packages,
        mirrors: sourcesFor(config, options.mirror),
        cacheDir: options.cache,
        excludes: config.excludes,
        // Sets up merged /usr with usr-is-merged, so the essential set does not pull in
        // usrmerge (and with it perl, about 50 MB).
        hookDirs: existsSync(MERGED_USR_HOOK) ? [MERGED_USR_HOOK] : [],
      },
      { cancelSignal: options.signal, timeout: 60 * 60_000 },
    );
    check(result, "bootstrapping Debian with mmdebstrap");
  },

  async installedPackages(root) {
    const result = check(await dpkg.queryInstalled(root), "listing installed packages");
    const config = { suite: "bookworm" };
    return dpkg.parseQuery(result.stdout).map(
      (p): InstalledPackage => ({
        name: p.name,
        version: p.version,
        arch: p.arch,
        supplier: p.maintainer?.replace(/\s*<.*>$/, ""),
        purlType: "deb",
        purlNamespace: "debian",
        qualifiers: { distro: `debian-${config.suite}` },
      }),
    );
  },
};
