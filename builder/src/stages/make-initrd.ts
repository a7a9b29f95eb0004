// Stage: the initrd, a cpio newc archive of the tree written here, compressed with zstd (the
// default; the guest kernel has RD_ZSTD) or gzip. The kernel runs /init: if the tree has none,
// one is added pointing straight at the final init (the kernel does not always follow two links).
import { createReadStream, createWriteStream } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import type { BuildContext } from "../build/context.js";
import { type CpioEntry, writeCpio } from "../formats/cpio.js";
import { zstdCompressor, zstdVersion } from "../tools/zstd.js";
import { BuildError } from "../util/errors.js";
import type { Tree, TreeEntry } from "../util/tree.js";
import { sortEntries } from "../util/tree.js";
import { findSystemd } from "./configure-init.js";

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

/** Adds /init when missing: to the agent (agent as init) or to systemd. */
export async function withInit(
  tree: Tree,
  init: string,
  agentInit: boolean,
): Promise<{ tree: Tree; init?: string }> {
  if (tree.entries.some((e) => e.path === "init")) return { tree };
  const target = agentInit ? init : await findSystemd(tree.root);
  if (!target) throw new BuildError("the root has neither /init nor systemd to point /init at");
  const entry: TreeEntry = {
    path: "init",
    type: "symlink",
    perm: 0o777,
    uid: 0,
    gid: 0,
    size: 0,
    link: target,
  };
  return { tree: { root: tree.root, entries: sortEntries([...tree.entries, entry]) }, init: target };
}

export async function makeInitrd(
  ctx: BuildContext,
  tree: Tree,
  name: string,
  compression: Compression,
  level: number,
): Promise<void> {
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
