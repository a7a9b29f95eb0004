// Stage: the dm-verity hash tree of the filesystem (no superblock, as upstream), with salt and
// UUID derived from the seed so the same filesystem always gives the same tree.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { With } from "../context.js";
import { check } from "../tools/run.js";
import * as veritysetup from "../tools/veritysetup.js";
import { seededSalt, seededUuid } from "../util/seed.js";

export interface VerityResult extends veritysetup.VerityInfo {
  hashPath: string;
  hashBytes: number;
}

export async function makeVerity(
  ctx: With<"work">,
  input: { filesystem: string; seed: string },
): Promise<VerityResult> {
  const hashPath = join(ctx.work, "verity.hash");
  const result = check(
    await veritysetup.format(
      {
        data: input.filesystem,
        hash: hashPath,
        salt: seededSalt(input.seed),
        uuid: seededUuid(input.seed, "verity-uuid"),
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
