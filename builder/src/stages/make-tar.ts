// Stage: write the finished root as a deterministic tarball.
import type { With } from "../context.js";
import { writeTar } from "../formats/tar.js";
import { walkTree } from "../util/tree.js";

export async function makeTar(ctx: With<"root" | "staging">, input: { name: string }): Promise<void> {
  const tree = await walkTree(ctx.root);
  await writeTar(tree, ctx.staging.path(input.name), ctx.epoch);
  ctx.artifacts.push(input.name);
}
