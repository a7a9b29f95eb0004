// What build manifests record about files: sha256 and size of every output (a directory output
// by its entry count and content bytes). stages/write-manifest.ts writes them.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, stat } from "node:fs/promises";
import { basename } from "node:path";
import pkg from "../../../package.json" with { type: "json" };
import { treeStats, walkTree } from "./tree.js";

/** This toolkit's release (package.json), which kata-build --version prints. */
export const TOOL_VERSION: string = pkg.version;
/** The builder's name and version, as manifests and SBOMs record it. */
export const TOOL_NAME = `kata-build-${TOOL_VERSION}`;

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

/** An output as a manifest lists it. */
export type OutputRecord =
  | (ArtifactRecord & { kind: "file" })
  | { name: string; kind: "directory"; entries: number; contentBytes: number };

export async function describeOutput(path: string): Promise<OutputRecord> {
  if ((await lstat(path)).isDirectory()) {
    return { name: basename(path), kind: "directory", ...treeStats(await walkTree(path)) };
  }
  return { ...(await describeArtifact(path)), kind: "file" };
}
