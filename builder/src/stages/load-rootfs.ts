// Stage: the input of `image` and `initrd` as a tree: a directory is listed in place, a
// tarball is extracted into the work area (owners, modes and devices come from its headers).
import { createHash } from "node:crypto";
import { lstat } from "node:fs/promises";
import { join } from "node:path";
import type { With } from "../context.js";
import { extractTar } from "../formats/tar.js";
import { makeDeviceNode } from "../tools/mknod.js";
import { zstdDecompress } from "../tools/zstd.js";
import { BuildError } from "../util/errors.js";
import { sha256File, treeDigest } from "../util/manifest.js";
import { type Tree, walkTree } from "../util/tree.js";

export interface LoadedRootfs {
  tree: Tree;
  /** True when the entries' metadata came from tarball headers rather than the disk. */
  fromTar: boolean;
  /** sha256 over the listing (paths, types, modes, owners, sizes, links): seeds UUIDs and salts. */
  digest: string;
}

export function listingDigest(tree: Tree): string {
  const h = createHash("sha256");
  for (const e of tree.entries) {
    h.update(`${e.path}\0${e.type}\0${e.perm}\0${e.uid}\0${e.gid}\0${e.size}\0${e.link ?? ""}\n`);
  }
  return h.digest("hex");
}

export async function loadRootfs(ctx: With<"work">, input: { path: string }): Promise<LoadedRootfs> {
  const st = await lstat(input.path).catch(() => undefined);
  if (!st)
    throw new BuildError(
      `root filesystem ${input.path} does not exist`,
      "build one with `kata-build rootfs`",
    );
  let tree: Tree;
  let fromTar = false;
  if (st.isDirectory()) {
    tree = await walkTree(input.path);
  } else {
    tree = await extractTar(input.path, join(ctx.work, "rootfs"), {
      ...(process.getuid?.() === 0 ? { makeDevice: makeDeviceNode } : {}),
      decompressZstd: zstdDecompress,
    });
    fromTar = true;
  }
  ctx.manifest.input = {
    path: input.path,
    kind: fromTar ? "tarball" : "directory",
    entries: tree.entries.length,
    // What went into the image or initrd, whatever its path: the content, and the tarball itself.
    treeSha256: await treeDigest(tree),
    ...(fromTar ? { tarballSha256: await sha256File(input.path) } : {}),
  };
  return { tree, fromTar, digest: listingDigest(tree) };
}
