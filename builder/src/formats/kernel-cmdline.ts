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

/** How the Kata runtime attaches the image: an NVDIMM (pmem) or a virtio-blk disk. */
export type RootDriver = "pmem" | "blk";

const ROOT_DEVICES: Record<RootDriver, { data: string; hash: string }> = {
  pmem: { data: "/dev/pmem0p1", hash: "/dev/pmem0p2" },
  blk: { data: "/dev/vda1", hash: "/dev/vda2" },
};

/** The runtime's rootflags value: "ro" rides inside it, so it renders as `rootflags=... ro`. */
function runtimeRootflags(fs: FsType, dax: boolean): string {
  if (fs === "erofs") return dax ? "dax ro" : "ro";
  return dax ? "dax,data=ordered,errors=remount-ro ro" : "data=ordered,errors=remount-ro ro";
}

/**
 * The root parameters exactly as the Kata runtime renders them: `root=`, `rootflags=`,
 * `rootfstype=` in that order; with kernel_verity_params, the dm-mod.create table first and the
 * root on /dev/dm-0 (never with DAX). Virtio-blk with DAX is refused, as the runtime refuses it.
 */
export function runtimeRootParams(
  fs: FsType,
  driver: RootDriver,
  options: { dax: boolean; verity?: VerityParams },
): string {
  if (driver === "blk" && options.dax) throw new Error("virtio-blk does not support DAX");
  const devices = ROOT_DEVICES[driver];
  if (options.verity) {
    // The runtime always names sha256 in the table: the builder's verity is sha256 too.
    const table = dmModCreate({ ...options.verity, hashAlgorithm: "sha256" }, devices.data, devices.hash);
    return `${table} root=/dev/dm-0 rootflags=${runtimeRootflags(fs, false)} rootfstype=${fs}`;
  }
  return `root=${devices.data} rootflags=${runtimeRootflags(fs, options.dax)} rootfstype=${fs}`;
}

/**
 * Reads upstream's one-line parameter file (kernel_verity_params), checked as the runtime checks
 * it: every field present, counts non-zero, block sizes multiples of 512. Throws naming the field.
 */
export function parseVerityParams(line: string): VerityParams {
  const fields = new Map<string, string>();
  for (const part of line.trim().split(",")) {
    if (!part.trim()) continue;
    const eq = part.indexOf("=");
    if (eq < 0) throw new Error(`'${part.trim()}' is not key=value`);
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const text = (name: string): string => {
    const value = fields.get(name);
    if (!value) throw new Error(`${name} is missing`);
    return value;
  };
  const count = (name: string, multipleOf = 1): number => {
    const raw = text(name);
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value <= 0)
      throw new Error(`${name} must be a positive integer, not '${raw}'`);
    if (value % multipleOf !== 0)
      throw new Error(`${name} must be a multiple of ${multipleOf}, not ${value}`);
    return value;
  };
  const hex = (name: string): string => {
    const value = text(name);
    if (!/^[0-9a-fA-F]+$/.test(value)) throw new Error(`${name} must be hexadecimal, not '${value}'`);
    return value.toLowerCase();
  };
  return {
    rootHash: hex("root_hash"),
    salt: hex("salt"),
    dataBlocks: count("data_blocks"),
    dataBlockSize: count("data_block_size", 512),
    hashBlockSize: count("hash_block_size", 512),
    hashAlgorithm: "sha256",
  };
}
