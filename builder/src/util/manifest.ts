// Build manifests: what went in, what came out, and the sha256 of every output.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat, writeFile } from "node:fs/promises";
import { basename } from "node:path";

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export interface ArtifactRecord {
  name: string;
  bytes: number;
  sha256: string;
}

export async function describeArtifact(path: string): Promise<ArtifactRecord> {
  const [info, sha256] = await Promise.all([stat(path), sha256File(path)]);
  return { name: basename(path), bytes: info.size, sha256 };
}

/** Writes a manifest with stable key order, so identical builds give identical manifests. */
export async function writeManifest(path: string, manifest: Record<string, unknown>): Promise<void> {
  await writeFile(path, `${JSON.stringify(manifest, null, 2)}\n`);
}
