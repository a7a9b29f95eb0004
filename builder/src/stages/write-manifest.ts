// Stage: the manifest, written last beside the outputs it describes (size and sha256 of every
// file, entry count and content bytes of a directory). The one writer of manifest files: the
// rootfs, image and initrd records (<name>.manifest.json) and the kernel's manifest.json.
import { writeFile } from "node:fs/promises";
import type { With } from "../context.js";
import { describeOutput, type OutputRecord } from "../util/manifest.js";

export interface ManifestInput<M> {
  /** The manifest's file name in the staging directory. */
  file: string;
  /**
   * The document, from the description of every output staged so far. By default: the
   * header, SOURCE_DATE_EPOCH, the section each stage recorded, then the outputs.
   */
  document?: (outputs: OutputRecord[]) => M;
  header?: Record<string, unknown>;
}

export async function writeManifest<M = Record<string, unknown>>(
  ctx: With<"staging">,
  input: ManifestInput<M>,
): Promise<M> {
  const outputs: OutputRecord[] = [];
  for (const artifact of ctx.artifacts) outputs.push(await describeOutput(ctx.staging.path(artifact)));
  const manifest =
    input.document?.(outputs) ??
    ({ ...input.header, sourceDateEpoch: ctx.epoch, ...ctx.manifest, outputs } as M);
  // Keys in insertion order: identical builds give identical manifests.
  await writeFile(ctx.staging.path(input.file), `${JSON.stringify(manifest, null, 2)}\n`);
  ctx.artifacts.push(input.file);
  return manifest;
}
