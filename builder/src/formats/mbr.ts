// The classic DOS/MBR partition table: 446 bytes of (empty) boot code, a disk signature,
// four 16-byte partition entries and the 0x55AA marker. Enough for Kata's guest disks,
// which hold one or two primary Linux partitions.

export const SECTOR = 512;
export const MiB = 1024 * 1024;
export const LINUX_PARTITION = 0x83;

export interface MbrPartition {
  /** First sector (LBA). */
  start: number;
  /** Length in sectors. */
  sectors: number;
  type?: number;
  bootable?: boolean;
}

export interface Mbr {
  /** The 32-bit disk identifier at offset 440 (Linux shows it as the PARTUUID prefix). */
  signature: number;
  partitions: MbrPartition[];
}

// CHS addressing with the conventional 255 heads x 63 sectors geometry; addresses past
// cylinder 1023 are written as the "use LBA" marker fe ff ff.
function chs(lba: number): [number, number, number] {
  const heads = 255;
  const perTrack = 63;
  const cylinder = Math.floor(lba / (heads * perTrack));
  if (cylinder > 1023) return [0xfe, 0xff, 0xff];
  const head = Math.floor(lba / perTrack) % heads;
  const sector = (lba % perTrack) + 1;
  return [head, ((cylinder >> 2) & 0xc0) | sector, cylinder & 0xff];
}

export function encodeMbr(mbr: Mbr): Buffer {
  if (mbr.partitions.length > 4) throw new RangeError("an MBR holds at most 4 primary partitions");
  const buf = Buffer.alloc(SECTOR);
  buf.writeUInt32LE(mbr.signature >>> 0, 440);
  const sorted = [...mbr.partitions].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    if (prev.start + prev.sectors > sorted[i]!.start) throw new RangeError("MBR partitions overlap");
  }
  mbr.partitions.forEach((p, i) => {
    if (p.start < 1 || p.sectors < 1) throw new RangeError("a partition needs a start >= 1 and a length");
    if (p.start + p.sectors > 0xffffffff) throw new RangeError("partition beyond 2 TiB does not fit an MBR");
    const at = 446 + i * 16;
    buf[at] = p.bootable ? 0x80 : 0;
    buf.set(chs(p.start), at + 1);
    buf[at + 4] = p.type ?? LINUX_PARTITION;
    buf.set(chs(p.start + p.sectors - 1), at + 5);
    buf.writeUInt32LE(p.start, at + 8);
    buf.writeUInt32LE(p.sectors, at + 12);
  });
  buf[510] = 0x55;
  buf[511] = 0xaa;
  return buf;
}

export function decodeMbr(sector: Buffer): Mbr {
  if (sector.length < SECTOR || sector[510] !== 0x55 || sector[511] !== 0xaa) {
    throw new Error("not an MBR: the 0x55AA marker is missing");
  }
  const partitions: MbrPartition[] = [];
  for (let i = 0; i < 4; i++) {
    const at = 446 + i * 16;
    const type = sector[at + 4]!;
    const sectors = sector.readUInt32LE(at + 12);
    if (type === 0 || sectors === 0) continue;
    partitions.push({ start: sector.readUInt32LE(at + 8), sectors, type, bootable: sector[at] === 0x80 });
  }
  return { signature: sector.readUInt32LE(440), partitions };
}
