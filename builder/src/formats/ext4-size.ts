// Size of an ext4 filesystem that holds a given tree, computed from the entries instead of
// probed with loop mounts (upstream's image builder grows a disk by 10 MiB until `df` agrees).
// The figure follows mke2fs's layout for the options we pass (4 KiB blocks, 256-byte inodes,
// no resize inode, 4 MiB journal, 3 % reserved blocks) and keeps a small margin on top.
import type { TreeEntry } from "../util/tree.js";

export const EXT4_BLOCK = 4096;
export const INODE_SIZE = 256;
export const JOURNAL_MIB = 4;
export const RESERVED_PERCENT = 3;
const BLOCKS_PER_GROUP = 8 * EXT4_BLOCK;
const FIRST_INODE = 11; // inodes 1..10 are reserved, 11 is lost+found
const MiB = 1024 * 1024;

export interface Ext4Plan {
  /** Blocks that file, directory and symlink content needs. */
  dataBlocks: number;
  /** Inode count to pass to mke2fs -N. */
  inodes: number;
  /** Filesystem size in bytes (a whole number of MiB). */
  bytes: number;
}

const dirent = (name: string) => 8 + Math.ceil(Buffer.byteLength(name) / 4) * 4;

export function dataBlocksOf(entries: TreeEntry[]): { blocks: number; inodes: number } {
  const dirBytes = new Map<string, number>();
  let blocks = 0;
  let inodes = 0;
  for (const e of entries) {
    if (e.path !== "") {
      const slash = e.path.lastIndexOf("/");
      const parent = slash < 0 ? "" : e.path.slice(0, slash);
      dirBytes.set(parent, (dirBytes.get(parent) ?? 24) + dirent(e.path.slice(slash + 1)));
    }
    if (e.type === "hardlink") continue;
    if (e.path !== "") inodes++;
    if (e.type === "file") {
      const b = Math.ceil(e.size / EXT4_BLOCK);
      // An inode maps 4 extents of up to 32768 blocks; longer files need an extent block.
      blocks += b + (b > 4 * 32768 ? Math.ceil(b / (340 * 32768)) : 0);
    } else if (e.type === "symlink" && Buffer.byteLength(e.link ?? "") >= 60) {
      blocks += 1;
    } else if (e.type === "dir") {
      dirBytes.set(e.path, dirBytes.get(e.path) ?? 24);
    }
  }
  // Directory blocks end in a 12-byte checksum tail; entries never straddle blocks.
  for (const bytes of dirBytes.values()) blocks += Math.max(1, Math.ceil((bytes * 1.05) / (EXT4_BLOCK - 12)));
  return { blocks: blocks + 4 /* lost+found */, inodes };
}

/** Plans the filesystem for `entries`, with `freeMiB` of extra room for the guest. */
export function planExt4(entries: TreeEntry[], freeMiB = 0): Ext4Plan {
  const { blocks: dataBlocks, inodes: used } = dataBlocksOf(entries);
  const inodes = Math.ceil((used + FIRST_INODE) * 1.02) + 64;
  const journal = (JOURNAL_MIB * MiB) / EXT4_BLOCK;
  const content = dataBlocks + Math.ceil((freeMiB * MiB) / EXT4_BLOCK);
  let total = content + journal;
  for (let round = 0; round < 8; round++) {
    const groups = Math.max(1, Math.ceil(total / BLOCKS_PER_GROUP));
    const perGroup = Math.ceil(Math.ceil(inodes / groups) / 16) * 16;
    const inodeTables = Math.ceil((groups * perGroup * INODE_SIZE) / EXT4_BLOCK);
    const descriptors = Math.ceil((groups * 64) / EXT4_BLOCK);
    const backups = groups > 1 ? 1 + Math.ceil(Math.log(groups) / Math.log(3)) * 3 : 1;
    const meta = 1 + groups * 2 + inodeTables + descriptors * backups + backups;
    const next = Math.ceil((content + journal + meta) / (1 - RESERVED_PERCENT / 100));
    if (next === total) break;
    total = next;
  }
  // Margin for what the arithmetic does not see: extended attributes stored outside inodes,
  // block-group boundaries splitting files, directory slack. 2 % plus 2 MiB.
  const withMargin = total * EXT4_BLOCK * 1.02 + 2 * MiB;
  return { dataBlocks, inodes, bytes: Math.ceil(withMargin / MiB) * MiB };
}

/** Rounds `bytes` up to a multiple of `alignMiB` MiB. */
export function alignUp(bytes: number, alignMiB: number): number {
  const unit = alignMiB * MiB;
  return Math.ceil(bytes / unit) * unit;
}
