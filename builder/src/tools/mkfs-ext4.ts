// mkfs.ext4 -d: builds an ext4 filesystem image from a directory without mounting anything,
// with every random input pinned (UUID, directory hash seed, creation time).
import { type RunOptions, runTool, type ToolResult } from "./run.js";

// Debian's defaults for ext4, fixed here so the host's /etc/mke2fs.conf cannot change images.
// orphan_file is left out so that older guest kernels can still mount the image.
export const MKE2FS_CONF = `[defaults]
	base_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
	default_mntopts = acl,user_xattr
	enable_periodic_fsck = 0
	blocksize = 4096
	inode_size = 256
	inode_ratio = 16384

[fs_types]
	ext4 = {
		features = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
	}
`;

export interface Ext4Request {
  image: string;
  source: string;
  bytes: number;
  inodes: number;
  uuid: string;
  /** Seconds since the epoch, used for every time mke2fs writes. */
  time: number;
  reservedPercent: number;
  journalMiB: number;
  label?: string;
  /** The mke2fs.conf to read (MKE2FS_CONF written to a file): never the host's /etc/mke2fs.conf. */
  configFile: string;
}

export function mkfsArgs(req: Ext4Request): string[] {
  return [
    "-q",
    "-F",
    "-t",
    "ext4",
    "-b",
    "4096",
    "-I",
    "256",
    "-N",
    String(req.inodes),
    "-m",
    String(req.reservedPercent),
    "-J",
    `size=${req.journalMiB}`,
    "-O",
    "^resize_inode",
    "-U",
    req.uuid,
    "-E",
    `hash_seed=${req.uuid},nodiscard,lazy_itable_init=0,root_owner=0:0`,
    ...(req.label ? ["-L", req.label] : []),
    "-d",
    req.source,
    req.image,
    `${Math.floor(req.bytes / 1024)}k`,
  ];
}

export function timeEnv(time: number): Record<string, string> {
  return { E2FSPROGS_FAKE_TIME: String(time) };
}

export function mkfsExt4(req: Ext4Request, options: RunOptions = {}): Promise<ToolResult> {
  return runTool("mkfs.ext4", "create the ext4 filesystem", mkfsArgs(req), {
    ...options,
    env: { ...options.env, ...timeEnv(req.time), MKE2FS_CONFIG: req.configFile },
  });
}
