// Stage: the initrd, a cpio newc archive of the tree written here, compressed with zstd (the
// default; the guest kernel has RD_ZSTD) or gzip.
import { createReadStream, createWriteStream } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import type { With } from "../context.js";
import { type CpioEntry, writeCpio } from "../formats/cpio.js";
import { zstdCompressor, zstdVersion } from "../tools/zstd.js";
import { BuildError } from "../util/errors.js";
import type { Tree, TreeEntry } from "../util/tree.js";

export type Compression = "gzip" | "zstd" | "none";

/** Tree entries as cpio entries: hard links become independent files, times are fixed. */
export function cpioEntries(tree: Tree, mtime: number): Array<CpioEntry & { source?: string }> {
  const sizes = new Map(tree.entries.map((e) => [e.path, e.size]));
  return tree.entries
    .filter((e) => e.type !== "socket")
    .map((e: TreeEntry) => {
      const kind = e.type === "hardlink" ? "file" : e.type;
      const entry: CpioEntry & { source?: string } = {
        name: e.path === "" ? "." : e.path,
        kind,
        perm: e.perm,
        uid: e.uid,
        gid: e.gid,
        mtime,
        size: e.type === "hardlink" ? (sizes.get(e.link ?? "") ?? 0) : e.size,
      };
      if (e.type === "symlink") entry.link = e.link;
      if (e.type === "char" || e.type === "block") {
        entry.rdevMajor = e.rdevMajor;
        entry.rdevMinor = e.rdevMinor;
      }
      if (kind === "file") entry.source = join(tree.root, e.path);
      return entry;
    });
}

export interface InitrdInput {
  tree: Tree;
  /** File name of the initrd in the staging directory. */
  name: string;
  compression: Compression;
  level: number;
}

export async function makeInitrd(ctx: With<"staging">, input: InitrdInput): Promise<void> {
  const { tree, name, compression, level } = input;
  const entries = cpioEntries(tree, ctx.epoch);
  const archive = Readable.from(
    writeCpio(entries, (e) => createReadStream((e as CpioEntry & { source: string }).source)),
  );
  const out = createWriteStream(ctx.staging.path(name));
  let tool: string | undefined;
  if (compression === "gzip") {
    tool = `node zlib ${process.versions.zlib}`;
    await pipeline(archive, createGzip({ level }), out);
  } else if (compression === "zstd") {
    tool = `zstd ${await zstdVersion()}`;
    const zstd = zstdCompressor(level);
    await Promise.all([pipeline(archive, zstd.stdin), pipeline(zstd.stdout, out)]);
    const code = await zstd.done;
    if (code !== 0) throw new BuildError(`zstd exited with status ${code}`);
  } else {
    await pipeline(archive, out);
  }
  ctx.artifacts.push(name);
  ctx.manifest.initrd = { format: "cpio newc", compression, level, tool, entries: entries.length };
}
