// cpio "newc" (SVR4, no CRC) archives, the format the Linux kernel unpacks as an initramfs.
// Written here rather than by the cpio program so that entry order, inode numbers and times
// are ours to fix: the same entries always give the same bytes.
import { TYPE_BITS } from "../util/tree.js";

export type CpioKind = "file" | "dir" | "symlink" | "char" | "block" | "fifo" | "socket";

export interface CpioEntry {
  /** Archive name without a leading slash; "." for the root directory. */
  name: string;
  kind: CpioKind;
  perm: number;
  uid: number;
  gid: number;
  mtime: number;
  /** Content size for files; for symlinks the target's byte length is used instead. */
  size?: number;
  /** Symlink target. */
  link?: string;
  rdevMajor?: number;
  rdevMinor?: number;
}

const MAGIC = "070701";
export const TRAILER = "TRAILER!!!";

const hex8 = (n: number): string => {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`cpio field out of range: ${n}`);
  return n.toString(16).padStart(8, "0");
};

const pad4 = (n: number): number => (4 - (n % 4)) % 4;

/** The header and padded name of one entry. `ino` must be unique per archive. */
export function encodeHeader(entry: CpioEntry, ino: number): Buffer {
  const name = Buffer.from(`${entry.name}\0`);
  const size =
    entry.kind === "symlink"
      ? Buffer.byteLength(entry.link ?? "")
      : entry.kind === "file"
        ? (entry.size ?? 0)
        : 0;
  const fields = [
    ino,
    TYPE_BITS[entry.kind] | (entry.perm & 0o7777),
    entry.uid,
    entry.gid,
    entry.kind === "dir" ? 2 : 1,
    entry.mtime,
    size,
    0,
    0,
    entry.rdevMajor ?? 0,
    entry.rdevMinor ?? 0,
    name.length,
    0,
  ];
  const head = Buffer.from(MAGIC + fields.map(hex8).join(""), "ascii");
  return Buffer.concat([head, name, Buffer.alloc(pad4(head.length + name.length))]);
}

/** Zero bytes that follow `size` bytes of content. */
export function dataPadding(size: number): Buffer {
  return Buffer.alloc(pad4(size));
}

export function trailer(): Buffer {
  return encodeHeader({ name: TRAILER, kind: "file", perm: 0, uid: 0, gid: 0, mtime: 0, size: 0 }, 0);
}

/**
 * Yields the archive: for each entry its header, then its content (from `content` for files,
 * the link target for symlinks), then the trailer. Inode numbers are the entry's position,
 * starting at 1, so they depend only on the order of the entries.
 */
export async function* writeCpio(
  entries: Iterable<CpioEntry>,
  content: (entry: CpioEntry) => AsyncIterable<Buffer>,
): AsyncGenerator<Buffer> {
  let ino = 1;
  for (const entry of entries) {
    yield encodeHeader(entry, ino++);
    if (entry.kind === "symlink") {
      const target = Buffer.from(entry.link ?? "");
      yield target;
      yield dataPadding(target.length);
    } else if (entry.kind === "file") {
      const expected = entry.size ?? 0;
      let written = 0;
      if (expected > 0) {
        for await (const chunk of content(entry)) {
          written += chunk.length;
          if (written > expected) throw new Error(`${entry.name} grew while it was archived`);
          yield chunk;
        }
      }
      if (written !== expected) throw new Error(`${entry.name}: read ${written} bytes, expected ${expected}`);
      yield dataPadding(expected);
    }
  }
  yield trailer();
}

export interface ParsedCpioEntry {
  name: string;
  mode: number;
  ino: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  data: Buffer;
}

/** Reads a whole newc archive held in memory (for tests and inspection). */
export function readCpio(archive: Buffer): ParsedCpioEntry[] {
  const out: ParsedCpioEntry[] = [];
  let off = 0;
  for (;;) {
    const magic = archive.toString("ascii", off, off + 6);
    if (magic !== MAGIC) throw new Error(`bad cpio magic at ${off}: ${JSON.stringify(magic)}`);
    const field = (i: number) =>
      Number.parseInt(archive.toString("ascii", off + 6 + i * 8, off + 14 + i * 8), 16);
    const nameSize = field(11);
    const size = field(6);
    const nameStart = off + 110;
    const name = archive.toString("utf8", nameStart, nameStart + nameSize - 1);
    const dataStart = nameStart + nameSize + pad4(110 + nameSize);
    if (name === TRAILER) return out;
    out.push({
      name,
      ino: field(0),
      mode: field(1),
      uid: field(2),
      gid: field(3),
      nlink: field(4),
      mtime: field(5),
      data: archive.subarray(dataStart, dataStart + size),
    });
    off = dataStart + size + pad4(size);
  }
}
