// Stage: start from a root filesystem tarball (for example an exported base container image)
// instead of a package manager.
import type { BuildContext } from "../build/context.js";
import { extractTar } from "../formats/tar.js";
import { describeArtifact } from "../util/manifest.js";
import { makeDeviceNode } from "./device-nodes.js";

export async function extractBase(ctx: BuildContext, tarball: string, root: string): Promise<void> {
  const tree = await extractTar(tarball, root, process.getuid?.() === 0 ? makeDeviceNode : undefined);
  const record = await describeArtifact(tarball);
  ctx.manifest.base = { tarball: { ...record, path: tarball }, entries: tree.entries.length };
}
