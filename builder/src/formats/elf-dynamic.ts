// What an ELF64 little-endian file needs to run, from its program headers: the dynamic loader
// (PT_INTERP) and, from the dynamic section (PT_DYNAMIC), the shared libraries it names
// (DT_NEEDED) and where it looks for them (DT_RUNPATH, or the older DT_RPATH). Pure parsing:
// `read` supplies bytes at an offset.

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_RPATH = 15n;
const DT_RUNPATH = 29n;

export interface ElfDynamic {
  /** e_machine (62: x86-64, 183: aarch64). */
  machine: number;
  /** PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2; absent for static files and libraries. */
  interpreter?: string;
  /** DT_NEEDED sonames, in order. */
  needed: string[];
  /** DT_RUNPATH (or DT_RPATH) directories, with $ORIGIN left for the caller. */
  runpath: string[];
}

type Reader = (offset: number, length: number) => Promise<Buffer>;

/** The dynamic linking facts of an ELF64 LE file; undefined when it is not one (a script, data). */
export async function readElfDynamic(read: Reader): Promise<ElfDynamic | undefined> {
  const header = await read(0, 64);
  if (header.length < 64 || header.readUInt32BE(0) !== 0x7f454c46) return undefined;
  if (header[4] !== 2 || header[5] !== 1) return undefined;
  const machine = header.readUInt16LE(0x12);
  const phoff = Number(header.readBigUInt64LE(0x20));
  const phentsize = header.readUInt16LE(0x36);
  const phnum = header.readUInt16LE(0x38);
  const table = await read(phoff, phentsize * phnum);
  const loads: { vaddr: bigint; offset: bigint; filesz: bigint }[] = [];
  let dynamic: { offset: number; size: number } | undefined;
  let interpreter: string | undefined;
  for (let i = 0; i < phnum; i++) {
    const ph = table.subarray(i * phentsize, (i + 1) * phentsize);
    if (ph.length < 56) break;
    const type = ph.readUInt32LE(0);
    const offset = ph.readBigUInt64LE(8);
    const vaddr = ph.readBigUInt64LE(16);
    const filesz = ph.readBigUInt64LE(32);
    if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
    else if (type === PT_DYNAMIC) dynamic = { offset: Number(offset), size: Number(filesz) };
    else if (type === PT_INTERP) {
      interpreter = (await read(Number(offset), Number(filesz))).toString("latin1").replace(/\0.*$/s, "");
    }
  }
  const facts: ElfDynamic = { machine, needed: [], runpath: [], ...(interpreter ? { interpreter } : {}) };
  if (!dynamic) return facts;

  const entries = await read(dynamic.offset, dynamic.size);
  const needed: bigint[] = [];
  let runpath: bigint | undefined;
  let rpath: bigint | undefined;
  let strtab: bigint | undefined;
  for (let pos = 0; pos + 16 <= entries.length; pos += 16) {
    const tag = entries.readBigInt64LE(pos);
    const value = entries.readBigUInt64LE(pos + 8);
    if (tag === DT_NULL) break;
    if (tag === DT_NEEDED) needed.push(value);
    else if (tag === DT_STRTAB) strtab = value;
    else if (tag === DT_RUNPATH) runpath = value;
    else if (tag === DT_RPATH) rpath = value;
  }
  if (strtab === undefined) return facts;
  // DT_STRTAB is an address: find the loaded segment that holds it to get its file offset.
  const address = strtab;
  const segment = loads.find((l) => address >= l.vaddr && address < l.vaddr + l.filesz);
  if (!segment) return facts;
  const base = Number(address - segment.vaddr + segment.offset);
  const string = async (index: bigint): Promise<string> => {
    const bytes = await read(base + Number(index), 4096);
    const end = bytes.indexOf(0);
    return bytes.subarray(0, end < 0 ? bytes.length : end).toString("latin1");
  };
  for (const index of needed) facts.needed.push(await string(index));
  // As ld.so: DT_RUNPATH wins over DT_RPATH when both are there.
  const path = runpath ?? rpath;
  if (path !== undefined) facts.runpath = (await string(path)).split(":").filter(Boolean);
  return facts;
}
