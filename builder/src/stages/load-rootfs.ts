// Stage: the input of `image` and `initrd` as a tree: a directory is listed in place, a
// tarball is extracted into the work area (owners, modes and devices come from its headers).
import { createHash } from "node:crypto";
import { lstat } from "node:fs/promises";
import { join } from "node:path";
import type { BuildContext } from "../build/context.js";
import { extractTar } from "../formats/tar.js";
import { BuildError } from "../util/errors.js";
import { resolveInRoot } from "../util/in-root.js";
import { type Tree, walkTree } from "../util/tree.js";
import { makeDeviceNode } from "./device-nodes.js";

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

export async function loadRootfs(ctx: BuildContext, input: string): Promise<LoadedRootfs> {
  const st = await lstat(input).catch(() => undefined);
  if (!st)
    throw new BuildError(`root filesystem ${input} does not exist`, "build one with `kata-build rootfs`");
  let tree: Tree;
  let fromTar = false;
  if (st.isDirectory()) {
    tree = await walkTree(input);
  } else {
    const root = join(ctx.work, "rootfs");
    tree = await extractTar(input, root, process.getuid?.() === 0 ? makeDeviceNode : undefined);
    fromTar = true;
  }
  ctx.manifest.input = { path: input, kind: fromTar ? "tarball" : "directory", entries: tree.entries.length };
  return { tree, fromTar, digest: listingDigest(tree) };
}

/** The checks upstream's image and initrd builders make: an init, and an agent. */
export async function checkRootfs(tree: Tree): Promise<{ init: string; agentInit: boolean }> {
  const init = await resolveInRoot(tree.root, "/sbin/init");
  const present = (p: string) => tree.entries.some((e) => `/${e.path}` === p);
  if (!present(init)) {
    throw new BuildError(
      `the root filesystem ${tree.root} has no /sbin/init`,
      "build it with `kata-build rootfs`",
    );
  }
  const agent = await resolveInRoot(tree.root, "/usr/bin/kata-agent");
  if (!present(agent)) throw new BuildError(`the root filesystem ${tree.root} has no /usr/bin/kata-agent`);
  return { init, agentInit: init === agent };
}
