// Stage: the dm-verity hash tree of the filesystem (no superblock, as upstream), and the
// kernel command line that opens it as /dev/dm-0.
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { BuildContext } from "../build/context.js";
import { check } from "../tools/run.js";
import type { VerityInfo } from "../tools/veritysetup.js";
import * as veritysetup from "../tools/veritysetup.js";
import { seededUuid } from "./make-filesystem.js";

export interface VerityResult extends VerityInfo {
  hashPath: string;
  hashBytes: number;
}

export function seededSalt(seed: string): string {
  return createHash("sha256").update(`verity-salt\0${seed}`).digest("hex");
}

/** The dm-mod.create table for a verity device over partitions 1 and 2 of `disk`. */
export function dmModCreate(v: VerityInfo, dataDev: string, hashDev: string): string {
  const sectors = (v.dataBlocks * v.dataBlockSize) / 512;
  return `dm-mod.create="dm-verity,,,ro,0 ${sectors} verity 1 ${dataDev} ${hashDev} ${v.dataBlockSize} ${v.hashBlockSize} ${v.dataBlocks} 0 ${v.hashAlgorithm} ${v.rootHash} ${v.salt}"`;
}

/** Upstream's one-line parameter file (root_hash_<variant>.txt). */
export function verityParams(v: VerityInfo): string {
  return `root_hash=${v.rootHash},salt=${v.salt},data_blocks=${v.dataBlocks},data_block_size=${v.dataBlockSize},hash_block_size=${v.hashBlockSize}`;
}

export async function makeVerity(ctx: BuildContext, fsImage: string, seed: string): Promise<VerityResult> {
  const hashPath = join(ctx.work, "verity.hash");
  const result = check(
    await veritysetup.format(
      {
        data: fsImage,
        hash: hashPath,
        salt: seededSalt(seed),
        uuid: seededUuid(seed, "verity-uuid"),
        dataBlockSize: 4096,
        hashBlockSize: 4096,
      },
      { cancelSignal: ctx.signal },
    ),
    "building the dm-verity hash tree",
  );
  const info = veritysetup.parseFormatOutput(result.stdout);
  const hashBytes = (await stat(hashPath)).size;
  return { ...info, hashPath, hashBytes };
}
