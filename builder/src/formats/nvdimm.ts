// The NVDIMM "PFN info block" (the kernel's struct nd_pfn_sb) that lets a guest map the disk
// image as a DAX-capable pmem namespace. It sits at 4 KiB into the image; the namespace's
// data starts at `dataoff` (2 MiB), where the real image with its own MBR begins.

export const PFN_INFO_OFFSET = 4096;
export const PFN_INFO_SIZE = 4096;
export const DAX_HEADER_BYTES = 2 * 1024 * 1024;
const SIGNATURE = "NVDIMM_PFN_INFO";
const PFN_MODE_RAM = 1;

/**
 * The kernel's nd_fletcher64: a running 32-bit sum of little-endian 32-bit words and a sum of
 * those sums; the result is (sum of sums mod 2^32) << 32 | sum.
 */
export function fletcher64(block: Buffer): bigint {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i + 4 <= block.length; i += 4) {
    lo = (lo + block.readUInt32LE(i)) >>> 0;
    hi = (hi + lo) >>> 0;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}

const CHECKSUM_OFFSET = PFN_INFO_SIZE - 8;

export interface PfnInfo {
  dataOffset: number;
  align: number;
}

/** The 4096-byte info block, checksum filled in. */
export function encodePfnInfo(
  info: PfnInfo = { dataOffset: DAX_HEADER_BYTES, align: DAX_HEADER_BYTES },
): Buffer {
  const sb = Buffer.alloc(PFN_INFO_SIZE);
  sb.write(SIGNATURE, 0, "ascii"); // 16-byte field, NUL-terminated
  // uuid (16..31), parent_uuid (32..47), flags (48) stay zero
  sb.writeUInt16LE(0, 52); // version_major
  sb.writeUInt16LE(2, 54); // version_minor
  sb.writeBigUInt64LE(BigInt(info.dataOffset), 56);
  sb.writeBigUInt64LE(0n, 64); // npfns
  sb.writeUInt32LE(PFN_MODE_RAM, 72);
  sb.writeUInt32LE(0, 76); // start_pad
  sb.writeUInt32LE(0, 80); // end_trunc
  sb.writeUInt32LE(info.align, 84);
  sb.writeBigUInt64LE(fletcher64(sb), CHECKSUM_OFFSET);
  return sb;
}

/** Checks signature and checksum of an info block; returns its fields. */
export function decodePfnInfo(sb: Buffer): PfnInfo & { versionMinor: number; mode: number } {
  if (sb.toString("ascii", 0, SIGNATURE.length) !== SIGNATURE)
    throw new Error("no NVDIMM_PFN_INFO signature");
  const copy = Buffer.from(sb.subarray(0, PFN_INFO_SIZE));
  const stored = copy.readBigUInt64LE(CHECKSUM_OFFSET);
  copy.writeBigUInt64LE(0n, CHECKSUM_OFFSET);
  if (fletcher64(copy) !== stored) throw new Error("NVDIMM PFN info block checksum mismatch");
  return {
    dataOffset: Number(copy.readBigUInt64LE(56)),
    align: copy.readUInt32LE(84),
    versionMinor: copy.readUInt16LE(54),
    mode: copy.readUInt32LE(72),
  };
}
