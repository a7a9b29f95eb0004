// Stage: the kernel runs /init from an initramfs. When the tree has none, the archive gets a
// /init link pointing straight at the final init (the agent, or systemd), because the kernel
// does not always follow two links. Only the listing changes; the tree on disk is left alone.
import type { BuildContext } from "../context.js";
import { BuildError } from "../util/errors.js";
import { findSystemd } from "../util/in-root.js";
import { sortEntries, type Tree, type TreeEntry } from "../util/tree.js";

export interface LinkInitInput {
  tree: Tree;
  /** /sbin/init resolved in the root. */
  init: string;
  /** True when /sbin/init is the agent. */
  agentInit: boolean;
}

/** The tree to archive: `input.tree`, plus /init when it had none. */
export async function linkInit(ctx: BuildContext, input: LinkInitInput): Promise<Tree> {
  const { tree, agentInit } = input;
  const mode = agentInit ? "agent" : "systemd";
  if (tree.entries.some((e) => e.path === "init")) {
    ctx.manifest.init = { mode, addedInit: null };
    return tree;
  }
  const target = agentInit ? input.init : await findSystemd(tree.root);
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
  ctx.progress.info(`/init -> ${target}`);
  ctx.manifest.init = { mode, addedInit: target };
  return { root: tree.root, entries: sortEntries([...tree.entries, entry]) };
}
