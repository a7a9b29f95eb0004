// Where everything goes on the guest disk: partition 1 (the filesystem) from 1 MiB, an
// optional partition 2 (the dm-verity hash tree) right after it, both extended so the last
// partition ends at the disk's last sector, the total rounded up to the alignment; with the
// NVDIMM/DAX header, 2 MiB in front holding a second MBR whose partitions start 2 MiB later.
import { alignUp } from "./ext4-size.js";
import { type Mbr, MiB, SECTOR } from "./mbr.js";
import { DAX_HEADER_BYTES } from "./nvdimm.js";

export const ROOTFS_START = MiB;

export interface LayoutInput {
  fsBytes: number;
  hashBytes?: number;
  dax: boolean;
  alignMiB: number;
  signature: number;
}

export interface DiskLayout {
  /** Bytes of the whole file. */
  total: number;
  /** Where the real image (with its own MBR) starts: 0, or 2 MiB behind a DAX header. */
  imageOffset: number;
  /** Byte offsets in the file. */
  fsOffset: number;
  hashOffset?: number;
  /** The MBR at offset 0 (the one a virtio-blk guest reads). */
  mbr: Mbr;
  /** The MBR at imageOffset (the one a DAX/NVDIMM guest reads); only with the header. */
  innerMbr?: Mbr;
}

const mib = (bytes: number) => Math.ceil(bytes / MiB) * MiB;

export function planDisk(input: LayoutInput): DiskLayout {
  const p1 = mib(input.fsBytes);
  const p2 = input.hashBytes !== undefined ? mib(input.hashBytes) : 0;
  const header = input.dax ? DAX_HEADER_BYTES : 0;
  const image = alignUp(ROOTFS_START + p1 + p2 + header, input.alignMiB) - header;
  const partitions = (base: number, size: number) => {
    const parts = [];
    const p1Sectors = input.hashBytes !== undefined ? p1 / SECTOR : (size - base - ROOTFS_START) / SECTOR;
    parts.push({
      start: (base + ROOTFS_START) / SECTOR,
      sectors: p1Sectors,
      bootable: input.hashBytes !== undefined,
    });
    if (input.hashBytes !== undefined) {
      const start = base + ROOTFS_START + p1;
      parts.push({ start: start / SECTOR, sectors: (size - start) / SECTOR });
    }
    return parts;
  };
  const total = header + image;
  const layout: DiskLayout = {
    total,
    imageOffset: header,
    fsOffset: header + ROOTFS_START,
    mbr: { signature: input.signature, partitions: partitions(header, total) },
  };
  if (input.hashBytes !== undefined) layout.hashOffset = header + ROOTFS_START + p1;
  if (input.dax) layout.innerMbr = { signature: input.signature, partitions: partitions(0, image) };
  return layout;
}
