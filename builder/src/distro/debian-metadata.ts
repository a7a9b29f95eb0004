// Debian package metadata kept in kata-build's cache: the package lists of the configured
// sources, verified by apt against the host's archive keys, refreshed when older than
// METADATA_MAX_AGE_SECONDS (or on --refresh), and handed to mmdebstrap so that the bootstrap
// and the check of a cached base tree read the very same lists.
import { createHash } from "node:crypto";
import { copyFile, mkdir, readdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as apt from "../tools/apt.js";
import { check } from "../tools/run.js";
import { BuildError } from "../util/errors.js";
import type { Progress } from "../util/progress.js";
import { withLock } from "../workspace/lock.js";
import { requireReachable } from "./repo-probe.js";

/** Lists younger than this are used as they are (the Azure Linux path's metadata_expire=6h). */
export const METADATA_MAX_AGE_SECONDS = 6 * 3600;

export interface MetadataOptions {
  /** The distribution's cache directory. */
  cache: string;
  sources: readonly string[];
  arch: string;
  /** Refresh even when the lists are fresh. */
  refresh: boolean;
  progress: Progress;
  signal?: AbortSignal;
  now?: number;
  maxAgeSeconds?: number;
}

export interface Metadata {
  state: apt.AptState;
  configFile: string;
  /** When the lists were last refreshed (ISO time). */
  updated: string;
  /** Whether this build refreshed them. */
  refreshed: boolean;
}

/** The release file URL of a "deb URL SUITE COMPONENTS" line. */
function releaseOf(line: string): string {
  const [, url = "", suite = ""] = line.replace(/\[[^\]]*\]\s*/, "").split(/\s+/);
  return `${url.replace(/\/$/, "")}/dists/${suite}/Release`;
}

/** Whether lists stamped at `stampMs` are too old to use at `now`. */
export function needsRefresh(stampMs: number | undefined, now: number, maxAgeSeconds: number): boolean {
  return stampMs === undefined || now - stampMs > maxAgeSeconds * 1000 || stampMs > now + 60_000;
}

export function stateDir(cache: string, sources: readonly string[], arch: string): string {
  const id = createHash("sha256")
    .update(`${arch}\n${sources.join("\n")}`)
    .digest("hex")
    .slice(0, 12);
  return join(cache, "apt", id);
}

const lockOf = (state: apt.AptState) => join(state.dir, "lock.d");
const stampOf = (state: apt.AptState) => join(state.dir, "updated");

async function prepare(state: apt.AptState): Promise<string> {
  const p = apt.aptPaths(state.dir);
  for (const d of [
    join(p.lists, "partial"),
    p.cache,
    join(p.etc, "apt.conf.d"),
    join(p.etc, "sources.list.d"),
    join(p.etc, "preferences.d"),
  ]) {
    await mkdir(d, { recursive: true });
  }
  await writeFile(p.status, "");
  await writeFile(p.sourcesList, `${state.sources.join("\n")}\n`);
  await writeFile(p.config, apt.aptConfig(state));
  return p.config;
}

/** Makes the lists usable: refreshed if missing, stale, or asked for. */
export async function ensureMetadata(options: MetadataOptions): Promise<Metadata> {
  const state: apt.AptState = {
    dir: stateDir(options.cache, options.sources, options.arch),
    sources: options.sources,
    arch: options.arch,
  };
  await mkdir(state.dir, { recursive: true });
  return withLock(
    lockOf(state),
    async () => {
      const configFile = await prepare(state);
      const now = options.now ?? Date.now();
      const stamp = (await stat(stampOf(state)).catch(() => undefined))?.mtimeMs;
      const maxAge = options.maxAgeSeconds ?? METADATA_MAX_AGE_SECONDS;
      if (!options.refresh && !needsRefresh(stamp, now, maxAge)) {
        const age = Math.round((now - stamp!) / 60_000);
        options.progress.info(
          `package lists from ${age} min ago (refreshed after ${maxAge / 3600} h, or with --refresh)`,
        );
        return { state, configFile, updated: new Date(stamp!).toISOString(), refreshed: false };
      }
      await options.progress.step("Refresh package lists", async () => {
        for (const line of options.sources) {
          await requireReachable(
            "Debian archive",
            releaseOf(line),
            "pass --mirror URL|DIR to use a local or offline mirror of the Debian archive",
          );
        }
        check(
          await apt.update(configFile, { cancelSignal: options.signal, timeout: 30 * 60_000 }),
          "refreshing the Debian package lists",
          "check that the archive is reachable and signed by a key in /etc/apt/trusted.gpg.d (debian-archive-keyring), or pass --mirror",
        );
      });
      await writeFile(stampOf(state), "");
      const when = new Date(now);
      await utimes(stampOf(state), when, when);
      return { state, configFile, updated: when.toISOString(), refreshed: true };
    },
    {
      onWait: () => options.progress.info("waiting for another build refreshing the same lists"),
      signal: options.signal,
    },
  );
}

/** Runs `read` while no other build rewrites the lists. */
export function readingLists<T>(meta: Metadata, read: () => Promise<T>): Promise<T> {
  return withLock(lockOf(meta.state), read);
}

/** Copies the lists (files only) into `dest`, for mmdebstrap's sync-in. */
export async function snapshotLists(meta: Metadata, dest: string): Promise<void> {
  const lists = apt.aptPaths(meta.state.dir).lists;
  await mkdir(dest, { recursive: true });
  for (const entry of await readdir(lists, { withFileTypes: true })) {
    if (entry.isFile() && entry.name !== "lock")
      await copyFile(join(lists, entry.name), join(dest, entry.name));
  }
}

/** The candidate version of each name in the lists (undefined when the archive has none). */
export async function candidates(
  meta: Metadata,
  names: readonly string[],
  signal?: AbortSignal,
): Promise<Map<string, string | undefined>> {
  if (!names.length) return new Map();
  const result = await apt.policy(meta.configFile, names, { cancelSignal: signal });
  if (!result.ok) throw new BuildError(`apt-cache policy failed:\n    ${result.stderr.trim()}`);
  return apt.parsePolicy(result.stdout);
}

/** The essential/required names of every Packages index in the lists. */
export async function seeds(meta: Metadata): Promise<string[]> {
  const lists = apt.aptPaths(meta.state.dir).lists;
  const names = new Set<string>();
  for (const name of (await readdir(lists)).sort()) {
    if (!name.endsWith("_Packages")) continue;
    for (const seed of apt.seedPackages(await readFile(join(lists, name), "latin1"))) names.add(seed);
  }
  return [...names].sort();
}
