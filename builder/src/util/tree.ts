// A root filesystem tree as an ordered list of entries: the one description that the tar, cpio
// and ext4 writers share. Order is deterministic (depth first, names in byte order, parents
// before children) and hard links are recognised, so every format built from it is too.
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";

export type EntryType = "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo" | "socket";

export interface TreeEntry {
  /** Path inside the root, without a leading slash; "" is the root itself. */
  path: string;
  type: EntryType;
  /** Permission bits including setuid/setgid/sticky (mode & 0o7777). */
  perm: number;
  uid: number;
  gid: number;
  /** Bytes of content (regular files only). */
  size: number;
  /** Symlink target, or for a hard link the path of the first entry with that inode. */
  link?: string;
  /** Device numbers for char and block devices. */
  rdevMajor?: number;
  rdevMinor?: number;
  /**
   * Extended attributes that the tree on disk does not carry (from a tarball's pax headers);
   * a tree listed from disk has its xattrs on disk, where mkfs reads them.
   */
  xattrs?: Record<string, Buffer>;
}

export interface Tree {
  /** Directory on disk that holds the content. */
  root: string;
  entries: TreeEntry[];
}

/** Compares names by their UTF-8 bytes, the order every writer here uses. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The file type bits of st_mode (S_IFREG, S_IFDIR, ...) for each entry type; a hard link is a file. */
export const TYPE_BITS: Record<EntryType, number> = {
  file: 0o100000,
  hardlink: 0o100000,
  dir: 0o040000,
  symlink: 0o120000,
  char: 0o020000,
  block: 0o060000,
  fifo: 0o010000,
  socket: 0o140000,
};

const S_IFMT = 0o170000;
const kinds = new Map<number, EntryType>(
  Object.entries(TYPE_BITS)
    .filter(([type]) => type !== "hardlink")
    .map(([type, bits]) => [bits, type as EntryType]),
);

/** Linux's encoding of st_rdev. */
export function splitDev(rdev: number): { major: number; minor: number } {
  const major = Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
  const minor = (rdev & 0xff) | Number((BigInt(rdev) >> 12n) & 0xffffff00n);
  return { major, minor };
}

/**
 * Lists `root` recursively without crossing into other filesystems' content differently:
 * every entry is reported with lstat metadata; hard links after the first become "hardlink".
 */
export async function walkTree(root: string): Promise<Tree> {
  const entries: TreeEntry[] = [];
  const seen = new Map<string, string>();
  async function visit(rel: string): Promise<void> {
    const abs = rel ? join(root, rel) : root;
    const st = await lstat(abs);
    const type = kinds.get(st.mode & S_IFMT);
    if (!type) throw new Error(`unsupported file type at /${rel}`);
    const entry: TreeEntry = {
      path: rel,
      type,
      perm: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      size: type === "file" ? st.size : 0,
    };
    if (type === "symlink") entry.link = await readlink(abs);
    if (type === "char" || type === "block") {
      const { major, minor } = splitDev(st.rdev);
      entry.rdevMajor = major;
      entry.rdevMinor = minor;
    }
    if (type === "file" && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = seen.get(key);
      if (first !== undefined) {
        entry.type = "hardlink";
        entry.link = first;
        entry.size = 0;
      } else {
        seen.set(key, rel);
      }
    }
    entries.push(entry);
    if (type === "dir") {
      const names = (await readdir(abs)).sort(compareNames);
      for (const name of names) await visit(rel ? `${rel}/${name}` : name);
    }
  }
  await visit("");
  return { root, entries };
}

/** Sorts entries into the canonical order (used for trees that come from a tarball). */
export function sortEntries(entries: TreeEntry[]): TreeEntry[] {
  const key = (p: string) => p.split("/");
  return [...entries].sort((a, b) => {
    const ka = key(a.path);
    const kb = key(b.path);
    if (a.path === "") return -1;
    if (b.path === "") return 1;
    for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
      const c = compareNames(ka[i]!, kb[i]!);
      if (c !== 0) return c;
    }
    return ka.length - kb.length;
  });
}

/** Bytes of content and entry count, for manifests. */
export function treeStats(tree: Tree): { entries: number; contentBytes: number } {
  let contentBytes = 0;
  for (const e of tree.entries) contentBytes += e.size;
  return { entries: tree.entries.length, contentBytes };
}
