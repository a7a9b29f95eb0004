// ELF notes of a vmlinux, read from its PT_NOTE program headers. The one we care about is
// Xen's XEN_ELFNOTE_PHYS32_ENTRY (type 18): the 32-bit PVH entry point that QEMU -kernel,
// Cloud Hypervisor and Firecracker jump to when they boot an uncompressed kernel.
import { open } from "node:fs/promises";

export const XEN_ELFNOTE_PHYS32_ENTRY = 18;
const PT_NOTE = 4;

export interface ElfNote {
  name: string;
  type: number;
  desc: Buffer;
}

export class NotElfError extends Error {
  override readonly name = "NotElfError";
}

type Reader = (offset: number, length: number) => Promise<Buffer>;

const align4 = (n: number) => (n + 3) & ~3;

/** The notes of an ELF64 little-endian file, read through `read` (a few small reads). */
export async function parseElfNotes(read: Reader): Promise<ElfNote[]> {
  const header = await read(0, 64);
  if (header.length < 64 || header.readUInt32BE(0) !== 0x7f454c46) throw new NotElfError("not an ELF file");
  if (header[4] !== 2 || header[5] !== 1) throw new NotElfError("only 64-bit little-endian ELF is supported");
  const phoff = Number(header.readBigUInt64LE(0x20));
  const phentsize = header.readUInt16LE(0x36);
  const phnum = header.readUInt16LE(0x38);
  const table = await read(phoff, phentsize * phnum);
  const notes: ElfNote[] = [];
  for (let i = 0; i < phnum; i++) {
    const ph = table.subarray(i * phentsize, (i + 1) * phentsize);
    if (ph.length < 40 || ph.readUInt32LE(0) !== PT_NOTE) continue;
    const data = await read(Number(ph.readBigUInt64LE(8)), Number(ph.readBigUInt64LE(32)));
    let pos = 0;
    while (pos + 12 <= data.length) {
      const namesz = data.readUInt32LE(pos);
      const descsz = data.readUInt32LE(pos + 4);
      const type = data.readUInt32LE(pos + 8);
      const descStart = pos + 12 + align4(namesz);
      if (descStart + descsz > data.length) break;
      const name = data
        .subarray(pos + 12, pos + 12 + namesz)
        .toString("latin1")
        .replace(/\0+$/, "");
      notes.push({ name, type, desc: Buffer.from(data.subarray(descStart, descStart + descsz)) });
      pos = descStart + align4(descsz);
    }
  }
  return notes;
}

export function bufferReader(buffer: Buffer): Reader {
  return async (offset, length) => buffer.subarray(offset, offset + length);
}

export async function readElfNotes(path: string): Promise<ElfNote[]> {
  const handle = await open(path, "r");
  try {
    return await parseElfNotes(async (offset, length) => {
      const data = Buffer.alloc(length);
      const { bytesRead } = await handle.read(data, 0, length, offset);
      return data.subarray(0, bytesRead);
    });
  } finally {
    await handle.close();
  }
}

/** The PVH entry address as hex, or undefined when the note is missing. */
export function pvhEntry(notes: readonly ElfNote[]): string | undefined {
  const note = notes.find((n) => n.name === "Xen" && n.type === XEN_ELFNOTE_PHYS32_ENTRY);
  if (!note || note.desc.length < 4) return undefined;
  const value = note.desc.length >= 8 ? note.desc.readBigUInt64LE(0) : BigInt(note.desc.readUInt32LE(0));
  return `0x${value.toString(16)}`;
}
