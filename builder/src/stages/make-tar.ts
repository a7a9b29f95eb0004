// Stage: write the finished root as a deterministic tarball.
import type { BuildContext } from "../build/context.js";
import { writeTar } from "../formats/tar.js";
import { walkTree } from "../util/tree.js";

export async function makeTar(ctx: BuildContext, root: string, name: string): Promise<void> {
  const tree = await walkTree(root);
  await writeTar(tree, ctx.staging.path(name), ctx.epoch);
  ctx.artifacts.push(name);
}
