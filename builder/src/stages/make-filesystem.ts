// Stage: the root filesystem image (partition 1's content), without mounting anything.
// ext4: mkfs.ext4 -d at a size computed from the tree, then one debugfs pass that pins every
// inode's times (mkfs copies the source files' change times, which cannot be set) and, for
// tarball input, owners, modes and device nodes. erofs: mkfs.erofs with fixed time and UUID.
import { lstat, mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { With } from "../context.js";
import { JOURNAL_MIB, planExt4, RESERVED_PERCENT } from "../formats/ext4-size.js";
import type { FsType } from "../formats/kernel-cmdline.js";
import { debugfsScript, runScript } from "../tools/debugfs.js";
import { mkfsErofs } from "../tools/mkfs-erofs.js";
import { MKE2FS_CONF, mkfsExt4 } from "../tools/mkfs-ext4.js";
import { check } from "../tools/run.js";
import { BuildError } from "../util/errors.js";
import { seededUuid } from "../util/seed.js";
import { type Tree, TYPE_BITS } from "../util/tree.js";

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
      const script = debugfsScript(tree, {
        time: ctx.epoch,
        fromTar,
        missingNodes: await missingNodes(tree),
        xattrFiles: await writeXattrValues(tree, join(ctx.work, "xattrs")),
      });
      const result = check(
        await runScript(image, script, ctx.epoch, { cancelSignal: ctx.signal }),
        "setting inode metadata with debugfs",
      );
      // debugfs goes on after a command fails, and says so only on stderr.
      const failures = debugfsFailures(result.stderr);
      if (failures.length > 0) {
        throw new BuildError(
          `setting inode metadata with debugfs failed:\n    ${failures.slice(0, 10).join("\n    ")}`,
          "please report this with the root filesystem that caused it",
        );
      }
    });
    ctx.manifest.filesystem = { type, uuid, bytes: plan.bytes, inodes: plan.inodes };
    return { path: image, bytes: plan.bytes, uuid, type };
  }
  const missing = await missingNodes(tree);
  if (missing.size > 0) {
    throw new BuildError(
      `the tarball's device nodes and FIFOs (/${[...missing][0]}, ...) could not be made without root, and mkfs.erofs reads them from the files`,
      "run kata-build as root, or build --fs ext4",
    );
  }
  if (tree.entries.some((e) => e.xattrs)) {
    throw new BuildError(
      "the tarball's extended attributes reach ext4 images only (mkfs.erofs reads them from the files)",
      "unpack the tarball as root with `tar --xattrs -xpf` and pass that directory, or build --fs ext4",
    );
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

/** Device nodes and FIFOs of the tree that are not on disk (made by debugfs instead). */
async function missingNodes(tree: Tree): Promise<Set<string>> {
  const missing = new Set<string>();
  for (const e of tree.entries) {
    if (e.type !== "char" && e.type !== "block" && e.type !== "fifo") continue;
    const st = await lstat(join(tree.root, e.path)).catch(() => undefined);
    if (!st || (st.mode & 0o170000) !== TYPE_BITS[e.type]) missing.add(e.path);
  }
  return missing;
}

/** Each xattr value the tree carries, in a file of its own for debugfs's `ea_set -f`. */
async function writeXattrValues(tree: Tree, dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const e of tree.entries) {
    for (const [name, value] of Object.entries(e.xattrs ?? {})) {
      if (files.size === 0) await mkdir(dir, { recursive: true });
      const file = join(dir, String(files.size));
      await writeFile(file, value);
      files.set(`${e.path}\0${name}`, file);
    }
  }
  return files;
}

/** debugfs's complaints about the commands it ran: every stderr line but its version banner. */
export function debugfsFailures(stderr: string): string[] {
  return stderr
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !/^debugfs \d/.test(line));
}
