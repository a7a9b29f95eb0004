// Debian through mmdebstrap: a second flavour that can be built (and booted) wherever Debian's
// archive is reachable. The archive's Release files are checked against the host's
// debian-archive-keyring by apt. The cache (<cache>/debian/) keeps three things:
//   debs/        downloaded .debs, copied into every bootstrap;
//   apt/<id>/    the package lists of the configured sources (debian-metadata.ts), refreshed
//                when older than 6 h or on --refresh, and the only lists mmdebstrap sees;
//   base/<key>/  the tree mmdebstrap made for a request (sources, variant, package list, ...),
//                reused while every package in it is still the candidate in those lists.
// A warm build therefore copies a tree instead of unpacking and configuring ~120 packages,
// and a change in the archive that touches the tree (a security update) rebuilds it.
import { existsSync } from "node:fs";
import { mkdir, readdir, rename } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { InstalledPackage } from "../formats/spdx.js";
import * as dpkg from "../tools/dpkg.js";
import * as mmdebstrap from "../tools/mmdebstrap.js";
import { check } from "../tools/run.js";
import { type BaseRecord, baseKey, readBase, restoreBase, staleReasons, storeBase } from "./base-cache.js";
import * as metadata from "./debian-metadata.js";
import { distroConfig } from "./package-lists.js";
import type { Distro, DistroOptions, InstallRecord, SourcesRecord } from "./types.js";

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

/**
 * What decides the bootstrapped tree, in a fixed order (its digest is the cache key). Only the
 * day of SOURCE_DATE_EPOCH reaches the tree (/etc/shadow's last-change field; two bootstraps an
 * hour apart are identical), so builds on the same day share an entry.
 */
export function baseRequest(fields: {
  suite: string;
  variant: string;
  sources: readonly string[];
  packages: readonly string[];
  excludes: readonly string[];
  hookDirs: readonly string[];
  arch: string;
  mmdebstrap: string;
  epoch: number;
}): Record<string, unknown> {
  return {
    schema: "kata-build/debian-base/1",
    suite: fields.suite,
    variant: fields.variant,
    sources: [...fields.sources],
    packages: [...new Set(fields.packages)].sort(),
    excludes: [...fields.excludes],
    hookDirs: [...fields.hookDirs],
    arch: fields.arch,
    mmdebstrap: fields.mmdebstrap,
    epochDay: Math.floor(fields.epoch / 86400),
  };
}

async function hostArch(options: DistroOptions): Promise<string> {
  const result = check(
    await dpkg.printArchitecture({ cancelSignal: options.signal }),
    "reading the host architecture",
  );
  return result.stdout.trim();
}

/** Moves .debs a cache from before debs/ existed keeps at its top level into debs/. */
async function debCache(cache: string): Promise<string> {
  const debs = join(cache, "debs");
  await mkdir(debs, { recursive: true });
  for (const name of await readdir(cache)) {
    if (name.endsWith(".deb")) await rename(join(cache, name), join(debs, name));
  }
  return debs;
}

async function installedVersions(root: string): Promise<BaseRecord["installed"]> {
  const result = check(await dpkg.queryInstalled(root), "listing installed packages");
  return dpkg.parseQuery(result.stdout).map((p) => ({ name: p.name, version: p.version, arch: p.arch }));
}

export const debian: Distro = {
  name: "debian",
  packageDbPaths: ["var/lib/dpkg", "var/lib/apt", "var/cache/apt", "var/cache/debconf", "etc/apt"],

  async setup(options): Promise<SourcesRecord> {
    // Reachability is checked when the lists are refreshed: a warm build with fresh lists and
    // a cached base tree needs no network.
    const config = await readConfig(options.data);
    const lines = sourcesFor(config, options.mirror);
    return {
      manager: "mmdebstrap",
      release: config.suite,
      repositories: lines.map((l) => ({ id: l.split(/\s+/)[2] ?? "", url: releaseUrl(l).url })),
    };
  },

  async install(options: DistroOptions, packages): Promise<InstallRecord> {
    const config = await readConfig(options.data);
    const sources = sourcesFor(config, options.mirror);
    const variant = options.variant ?? config.variant;
    // Sets up merged /usr with usr-is-merged, so the essential set does not pull in usrmerge
    // (and with it perl, about 50 MB).
    const hookDirs = existsSync(MERGED_USR_HOOK) ? [MERGED_USR_HOOK] : [];
    const arch = await hostArch(options);
    const request = baseRequest({
      suite: config.suite,
      variant,
      sources,
      packages,
      excludes: config.excludes,
      hookDirs,
      arch,
      mmdebstrap: await mmdebstrap.version({ cancelSignal: options.signal }),
      epoch: options.epoch,
    });
    const key = baseKey(request);
    const baseDir = join(options.cache, "base");
    const progress = options.progress;

    const meta = await metadata.ensureMetadata({
      cache: options.cache,
      sources,
      arch,
      refresh: options.refresh,
      progress,
      signal: options.signal,
    });
    const lists = { updated: meta.updated, refreshed: meta.refreshed };

    const entry = options.refresh ? undefined : await readBase(baseDir, key);
    if (entry) {
      const reasons = await metadata.readingLists(meta, async () =>
        staleReasons(
          entry.record,
          await metadata.candidates(
            meta,
            entry.record.installed.map((p) => p.name),
            options.signal,
          ),
          await metadata.seeds(meta),
        ),
      );
      if (!reasons.length) {
        await progress.step("Copy cached base tree", () => restoreBase(entry, options.root, options.signal));
        progress.info(
          `base ${key}: ${entry.record.installed.length} packages, made ${entry.record.created}, all still current`,
        );
        return { base: { key, reused: true, created: entry.record.created }, lists };
      }
      const shown = reasons.slice(0, 4).join("; ");
      progress.info(
        `cached base ${key} is out of date (${shown}${reasons.length > 4 ? `; ${reasons.length - 4} more` : ""})`,
      );
    }

    const listsCopy = join(options.work, "apt-lists");
    const seeds = await metadata.readingLists(meta, async () => {
      await metadata.snapshotLists(meta, listsCopy);
      return metadata.seeds(meta);
    });
    const result = await progress.step("Bootstrap with mmdebstrap", async () =>
      mmdebstrap.bootstrap(
        {
          suite: config.suite,
          target: options.root,
          variant,
          include: packages,
          mirrors: sources,
          cacheDir: await debCache(options.cache),
          excludes: config.excludes,
          hookDirs,
          listsDir: listsCopy,
        },
        {
          cancelSignal: options.signal,
          timeout: 60 * 60_000,
          env: { SOURCE_DATE_EPOCH: String(options.epoch) },
        },
      ),
    );
    check(
      result,
      "bootstrapping Debian with mmdebstrap",
      "if a package download failed (404), the package lists may have gone out of date: build again with --refresh",
    );
    const installed = await installedVersions(options.root);
    const record: BaseRecord = {
      schema: 1,
      key,
      request,
      installed,
      seeds,
      created: new Date().toISOString(),
    };
    await progress.step("Store base tree in the cache", () =>
      storeBase(baseDir, record, options.root, options.signal),
    );
    return { base: { key, reused: false, created: record.created }, lists };
  },

  async packageFiles(root, packages) {
    if (!packages.length) return [];
    const result = check(await dpkg.listFiles(root, packages), "listing the files of packages");
    return result.stdout.split("\n").filter((line) => line.startsWith("/"));
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
