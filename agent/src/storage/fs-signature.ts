// Is there already a filesystem on this device? The blk driver's create_filesystem option formats
// only blank devices, so re-adding a volume (a container restart, an agent restart) never wipes it.
// Known superblock magics, as blkid/libblkid look for them.
import { open } from "node:fs/promises";

interface Magic {
  fstype: string;
  offset: number;
  bytes: Buffer;
}

const MAGICS: readonly Magic[] = [
  { fstype: "ext", offset: 0x438, bytes: Buffer.from([0x53, 0xef]) },
  { fstype: "xfs", offset: 0, bytes: Buffer.from("XFSB") },
  { fstype: "btrfs", offset: 0x10040, bytes: Buffer.from("_BHRfS_M") },
  { fstype: "erofs", offset: 0x400, bytes: Buffer.from([0xe2, 0xe1, 0xf5, 0xe0]) },
  { fstype: "squashfs", offset: 0, bytes: Buffer.from("hsqs") },
  { fstype: "swap", offset: 4086, bytes: Buffer.from("SWAPSPACE2") },
  { fstype: "LUKS", offset: 0, bytes: Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]) },
];

const PROBE_BYTES = 0x10040 + 8;

/** The filesystem family found on `device`, or undefined for a device without a known signature. */
export async function detectFilesystem(device: string): Promise<string | undefined> {
  const file = await open(device, "r");
  try {
    const buf = Buffer.alloc(PROBE_BYTES);
    const { bytesRead } = await file.read(buf, 0, PROBE_BYTES, 0);
    for (const magic of MAGICS) {
      const end = magic.offset + magic.bytes.length;
      if (end <= bytesRead && buf.subarray(magic.offset, end).equals(magic.bytes)) return magic.fstype;
    }
    return undefined;
  } finally {
    await file.close();
  }
}
