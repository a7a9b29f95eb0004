// What build manifests record about files: sha256 and size of every output (a directory output
// by its entry count and content bytes). stages/write-manifest.ts writes them.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import pkg from "../../../package.json" with { type: "json" };
import { type Tree, treeStats, walkTree } from "./tree.js";

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

/**
 * sha256 over a tree's content: every entry's path, type, mode, owner, link target and device
 * numbers, and each regular file's own sha256. The same tree gives the same digest whether it
 * was read from a directory or a tarball, and any change to a byte or an attribute changes it.
 */
export async function treeDigest(tree: Tree): Promise<string> {
  const h = createHash("sha256");
  for (const e of tree.entries) {
    const content = e.type === "file" ? await sha256File(join(tree.root, e.path)) : "";
    const dev = e.rdevMajor === undefined ? "" : `${e.rdevMajor}:${e.rdevMinor}`;
    h.update(
      `${e.path}\0${e.type}\0${e.perm.toString(8)}\0${e.uid}:${e.gid}\0${e.link ?? ""}\0${dev}\0${content}\n`,
    );
  }
  return h.digest("hex");
}
