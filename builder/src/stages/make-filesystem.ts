// Stage: the root filesystem image (partition 1's content), without mounting anything.
// ext4: mkfs.ext4 -d at a size computed from the tree, then one debugfs pass that pins every
// inode's times (mkfs copies the source files' change times, which cannot be set) and, for
// tarball input, owners, modes and device nodes. erofs: mkfs.erofs with fixed time and UUID.
import { stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { With } from "../context.js";
import { JOURNAL_MIB, planExt4, RESERVED_PERCENT } from "../formats/ext4-size.js";
import type { FsType } from "../formats/kernel-cmdline.js";
import { debugfsScript, runScript } from "../tools/debugfs.js";
import { mkfsErofs } from "../tools/mkfs-erofs.js";
import { MKE2FS_CONF, mkfsExt4 } from "../tools/mkfs-ext4.js";
import { check } from "../tools/run.js";
import { seededUuid } from "../util/seed.js";
import type { Tree } from "../util/tree.js";

export interface FilesystemResult {
  path: string;
  bytes: number;
  uuid: string;
  type: FsType;
}

export interface FilesystemInput {
  tree: Tree;
  fs: FsType;
  /** Seeds the filesystem UUID (and ext4's directory hash seed). */
  seed: string;
  /** True when the tree's owners, modes and devices come from tarball headers, not the disk. */
  fromTar: boolean;
  /** Extra free space in an ext4 filesystem. */
  freeMiB: number;
}

export async function makeFilesystem(ctx: With<"work">, input: FilesystemInput): Promise<FilesystemResult> {
  const { tree, fs: type, seed, fromTar, freeMiB } = input;
  const image = join(ctx.work, `rootfs.${type}`);
  const uuid = seededUuid(seed, `${type}-uuid`);
  if (type === "ext4") {
    const plan = planExt4(tree.entries, freeMiB);
    ctx.progress.info(
      `ext4: ${plan.bytes / 1048576} MiB, ${plan.inodes} inodes, ${plan.dataBlocks} data blocks`,
    );
    const conf = join(ctx.work, "mke2fs.conf");
    await writeFile(conf, MKE2FS_CONF);
    check(
      await mkfsExt4(
        {
          image,
          source: tree.root,
          bytes: plan.bytes,
          inodes: plan.inodes,
          uuid,
          time: ctx.epoch,
          reservedPercent: RESERVED_PERCENT,
          journalMiB: JOURNAL_MIB,
          configFile: conf,
        },
        { cancelSignal: ctx.signal },
      ),
      "creating the ext4 filesystem",
      "if it ran out of space, pass --free-space MIB (and please report the tree that needed it)",
    );
    await ctx.progress.step("Pin inode metadata", async () => {
      check(
        await runScript(image, debugfsScript(tree, ctx.epoch, fromTar), ctx.epoch, {
          cancelSignal: ctx.signal,
        }),
        "setting inode times with debugfs",
      );
    });
    ctx.manifest.filesystem = { type, uuid, bytes: plan.bytes, inodes: plan.inodes };
    return { path: image, bytes: plan.bytes, uuid, type };
  }
  check(
    await mkfsErofs(
      { image, source: tree.root, uuid, time: ctx.epoch, compression: "lz4hc" },
      { cancelSignal: ctx.signal },
    ),
    "creating the erofs filesystem",
  );
  const bytes = (await stat(image)).size;
  ctx.manifest.filesystem = { type, uuid, bytes, compression: "lz4hc" };
  return { path: image, bytes, uuid, type };
}
