// Stage: find the kernel source and its identity. A local tarball is identified by its sha256,
// an unpacked tree by a fingerprint of its file list (path, size, mtime), and a version by the
// sha256 pinned in versions.conf, after downloading it once into the cache and checking it.
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { copyFile, lstat, mkdir, opendir, rename, rm, stat } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { fileURLToPath } from "node:url";
import type { With } from "../context.js";
import { cacheLayout } from "../kernel/cache.js";
import type { KernelSource } from "../kernel/types.js";
import { downloadUrl, loadVersions, looksLikeVersion, type PinnedVersion } from "../kernel/versions.js";
import { BuildError } from "../util/errors.js";
import { sha256File } from "../util/manifest.js";

type Context = With<"kernel" | "data" | "cache">;

export async function fetchKernelSource(ctx: Context): Promise<KernelSource> {
  const { source } = ctx.kernel;
  const local = resolve(source);
  const info = await stat(local).catch(() => undefined);
  if (info?.isDirectory()) {
    return ctx.progress.step(`Fingerprinting kernel tree ${local}`, async () => ({
      kind: "tree" as const,
      path: local,
      sha256: await treeFingerprint(local),
    }));
  }
  if (info?.isFile()) {
    return ctx.progress.step(`Hashing ${local}`, async () => ({
      kind: "tarball" as const,
      path: local,
      sha256: await sha256File(local),
    }));
  }
  if (!looksLikeVersion(source)) {
    throw new BuildError(
      `kernel source '${source}' is not a file, a directory or a kernel version`,
      "pass a kernel tarball (e.g. /usr/src/linux-source-6.1.tar.xz), an unpacked tree, or a version from rootfs/kernel/versions.conf",
    );
  }
  const versionsFile = join(ctx.data, "versions.conf");
  const pins = await loadVersions(versionsFile);
  const pin = pins.get(source);
  if (!pin) {
    throw new BuildError(
      `kernel ${source} is not pinned in ${versionsFile}`,
      `pinned: ${[...pins.keys()].join(", ") || "none"}; add '${source} <sha256>' after checking the sha256 against kernel.org's signed sha256sums.asc, or pass a local tarball`,
    );
  }
  return downloadPinned(ctx, pin);
}

async function downloadPinned(ctx: Context, pin: PinnedVersion): Promise<KernelSource> {
  const url = downloadUrl(pin, ctx.kernel.mirror);
  const name = `linux-${pin.version}${/\.tar\.[a-z0-9]+$/.exec(url)?.[0] ?? ".tar.xz"}`;
  const { downloads } = cacheLayout(ctx.cache);
  const target = join(downloads, name);
  const pinned = { version: pin.version, url };
  if ((await stat(target).catch(() => undefined))?.isFile() && (await sha256File(target)) === pin.sha256) {
    return { kind: "tarball", path: target, sha256: pin.sha256, pinned };
  }
  await mkdir(downloads, { recursive: true });
  const partial = `${target}.part-${process.pid}`;
  try {
    const sha256 = await ctx.progress.step(`Downloading ${url}`, () => download(url, partial, ctx.signal));
    if (sha256 !== pin.sha256) {
      throw new BuildError(
        `${url} has sha256 ${sha256}, but versions.conf pins ${pin.sha256} for ${pin.version}`,
        "the download is corrupt or the pin is wrong; nothing was cached. Check the pin against kernel.org's sha256sums.asc",
      );
    }
    await rename(partial, target);
  } finally {
    await rm(partial, { force: true });
  }
  return { kind: "tarball", path: target, sha256: pin.sha256, pinned };
}

/** Streams `url` to `path`, returning the sha256 of what was written. file:// URLs are copied. */
async function download(url: string, path: string, signal?: AbortSignal): Promise<string> {
  if (url.startsWith("file://")) {
    await copyFile(fileURLToPath(url), path);
    return sha256File(path);
  }
  let response: Response;
  try {
    response = await fetch(url, signal ? { signal } : {});
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new BuildError(
      `cannot download ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
      "this machine looks offline (or kernel.org is unreachable): pass a local tarball or unpacked tree with --source, e.g. /usr/src/linux-source-6.1.tar.xz, or a reachable --mirror",
      { cause: err },
    );
  }
  if (!response.ok || !response.body) {
    throw new BuildError(`cannot download ${url}: HTTP ${response.status} ${response.statusText}`);
  }
  const hash = createHash("sha256");
  const hasher = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(
    Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>),
    hasher,
    createWriteStream(path),
  );
  return hash.digest("hex");
}

/**
 * A fingerprint of an unpacked tree: sha256 over every file's relative path, size and mtime
 * (content is not read; a kernel tree has ~75k files). Version-control and build outputs are
 * skipped so that building does not change the fingerprint.
 */
export async function treeFingerprint(root: string): Promise<string> {
  const skip = new Set([".git", ".svn", ".hg"]);
  const rows: string[] = [];
  async function walk(dir: string): Promise<void> {
    const entries = [];
    for await (const entry of await opendir(dir)) entries.push(entry);
    await Promise.all(
      entries.map(async (entry) => {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (!skip.has(entry.name)) await walk(path);
          return;
        }
        const info = await lstat(path);
        rows.push(`${relative(root, path)}\0${info.size}\0${Math.trunc(info.mtimeMs)}`);
      }),
    );
  }
  await walk(root);
  rows.sort();
  const hash = createHash("sha256");
  for (const row of rows) hash.update(`${row}\n`);
  return hash.digest("hex");
}
