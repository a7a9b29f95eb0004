// Stage: the root filesystem image (partition 1's content), without mounting anything.
// ext4: mkfs.ext4 -d at a size computed from the tree, then one debugfs pass that pins every
// inode's times (mkfs copies the source files' change times, which cannot be set) and, for
// tarball input, owners, modes and device nodes. erofs: mkfs.erofs with fixed time and UUID.
import { createHash } from "node:crypto";
import { stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BuildContext } from "../build/context.js";
import { JOURNAL_MIB, planExt4, RESERVED_PERCENT } from "../formats/ext4-size.js";
import { quotePath, runScript } from "../tools/debugfs.js";
import { mkfsErofs } from "../tools/mkfs-erofs.js";
import { mkfsExt4 } from "../tools/mkfs-ext4.js";
import { check } from "../tools/run.js";
import type { Tree } from "../util/tree.js";

export type FsType = "ext4" | "erofs";

/** A UUID derived from a seed, so a rebuild of the same tree gets the same one. */
export function seededUuid(seed: string, purpose: string): string {
  const h = createHash("sha256").update(`${purpose}\0${seed}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x40;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

// Debian's defaults for ext4, fixed here so the host's /etc/mke2fs.conf cannot change images.
// orphan_file is left out so that older guest kernels can still mount the image.
export const MKE2FS_CONF = `[defaults]
	base_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
	default_mntopts = acl,user_xattr
	enable_periodic_fsck = 0
	blocksize = 4096
	inode_size = 256
	inode_ratio = 16384

[fs_types]
	ext4 = {
		features = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
	}
`;

/** The debugfs commands that give every inode the tree's metadata and the fixed time. */
export function debugfsScript(tree: Tree, time: number, fromTar: boolean): string {
  const lines: string[] = [];
  for (const e of tree.entries) {
    if (e.type === "hardlink" || e.type === "socket") continue;
    const p = quotePath(`/${e.path}`);
    if (fromTar && (e.type === "char" || e.type === "block" || e.type === "fifo")) {
      lines.push(`rm ${p}`);
      const spec =
        e.type === "fifo" ? "p" : `${e.type === "char" ? "c" : "b"} ${e.rdevMajor ?? 0} ${e.rdevMinor ?? 0}`;
      lines.push(`mknod ${p} ${spec}`);
    }
    if (fromTar) {
      lines.push(`sif ${p} uid ${e.uid}`, `sif ${p} gid ${e.gid}`);
      if (e.type !== "symlink") {
        const typeBits = { file: 0o100000, dir: 0o040000, char: 0o020000, block: 0o060000, fifo: 0o010000 }[
          e.type
        ];
        lines.push(`sif ${p} mode 0${(typeBits | e.perm).toString(8)}`);
      }
    }
    for (const field of ["atime", "mtime", "ctime", "crtime"]) lines.push(`sif ${p} ${field} ${time}`);
  }
  for (const field of ["atime", "mtime", "ctime", "crtime"]) lines.push(`sif /lost+found ${field} ${time}`);
  return `${lines.join("\n")}\n`;
}

export interface FilesystemResult {
  path: string;
  bytes: number;
  uuid: string;
  type: FsType;
}

export async function makeFilesystem(
  ctx: BuildContext,
  tree: Tree,
  type: FsType,
  seed: string,
  fromTar: boolean,
  freeMiB: number,
): Promise<FilesystemResult> {
  const image = join(ctx.work, `rootfs.${type}`);
  const uuid = seededUuid(seed, `${type}-uuid`);
  if (type === "ext4") {
    const plan = planExt4(tree.entries, freeMiB);
    ctx.progress.info(
      `ext4: ${plan.bytes / 1048576} MiB, ${plan.inodes} inodes, ${plan.dataBlocks} data blocks`,
    );
    const conf = join(ctx.work, "mke2fs.conf");
    await writeFile(conf, MKE2FS_CONF);
    const env = { MKE2FS_CONFIG: conf };
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
        },
        { env, cancelSignal: ctx.signal },
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
