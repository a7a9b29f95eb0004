// Stage: start from a root filesystem tarball (for example an exported base container image)
// instead of a package manager.
import type { With } from "../context.js";
import { extractTar } from "../formats/tar.js";
import { makeDeviceNode } from "../tools/mknod.js";
import { zstdDecompress } from "../tools/zstd.js";
import { describeArtifact } from "../util/manifest.js";

export async function extractBase(ctx: With<"root">, input: { tarball: string }): Promise<void> {
  const tree = await extractTar(input.tarball, ctx.root, {
    ...(process.getuid?.() === 0 ? { makeDevice: makeDeviceNode } : {}),
    decompressZstd: zstdDecompress,
  });
  const record = await describeArtifact(input.tarball);
  ctx.manifest.base = { tarball: { ...record, path: input.tarball }, entries: tree.entries.length };
}
