// The kernel command line that mounts an image's root: the root device parameters (as the Kata
// runtime passes them), and for a dm-verity image the dm-mod.create table that opens the
// verified device as /dev/dm-0 without an initramfs, plus upstream's one-line parameter file.

export type FsType = "ext4" | "erofs";

/** What `veritysetup format` reported about a hash tree. */
export interface VerityParams {
  rootHash: string;
  salt: string;
  dataBlocks: number;
  dataBlockSize: number;
  hashBlockSize: number;
  hashAlgorithm: string;
}

/** root=, rootfstype= and rootflags= for a read-only root on `device`. */
export function rootParams(fs: FsType, dax: boolean, device: string): string {
  const flags = fs === "ext4" ? "data=ordered,errors=remount-ro" : "";
  const rootflags = [dax ? "dax" : "", flags].filter(Boolean).join(",");
  return [`root=${device}`, `rootfstype=${fs}`, rootflags ? `rootflags=${rootflags} ro` : "ro"].join(" ");
}

/** The dm-mod.create table for a verity device over a data and a hash device. */
export function dmModCreate(v: VerityParams, dataDev: string, hashDev: string): string {
  const sectors = (v.dataBlocks * v.dataBlockSize) / 512;
  return `dm-mod.create="dm-verity,,,ro,0 ${sectors} verity 1 ${dataDev} ${hashDev} ${v.dataBlockSize} ${v.hashBlockSize} ${v.dataBlocks} 0 ${v.hashAlgorithm} ${v.rootHash} ${v.salt}"`;
}

/** Upstream's one-line parameter file (root_hash_<variant>.txt). */
export function verityParams(v: VerityParams): string {
  return `root_hash=${v.rootHash},salt=${v.salt},data_blocks=${v.dataBlocks},data_block_size=${v.dataBlockSize},hash_block_size=${v.hashBlockSize}`;
}
