// Stage: describe every file artifact (size, sha256) and write <name>.manifest.json beside
// them. Directory artifacts are described by entry count and content bytes.
import { lstat } from "node:fs/promises";
import type { BuildContext } from "../build/context.js";
import { describeArtifact, writeManifest as write } from "../util/manifest.js";
import { treeStats, walkTree } from "../util/tree.js";

export async function writeManifest(
  ctx: BuildContext,
  name: string,
  header: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const outputs: Record<string, unknown>[] = [];
  for (const artifact of ctx.artifacts) {
    const path = ctx.staging.path(artifact);
    const st = await lstat(path);
    if (st.isDirectory()) {
      const stats = treeStats(await walkTree(path));
      outputs.push({ name: artifact, kind: "directory", ...stats });
    } else {
      outputs.push({ ...(await describeArtifact(path)), kind: "file" });
    }
  }
  const manifest = {
    ...header,
    sourceDateEpoch: ctx.epoch,
    ...ctx.manifest,
    outputs,
  };
  const file = `${name}.manifest.json`;
  await write(ctx.staging.path(file), manifest);
  ctx.artifacts.push(file);
  return manifest;
}
