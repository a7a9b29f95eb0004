// fstab-style mount options split into mount(2) flags and the filesystem's data string, as
// util-linux and upstream's parse_mount_options do. The MS_* values are the Linux ABI (the same
// on every architecture); the native addon's constants are checked against them in the tests.
import { InvalidInputError } from "../core/domain-error.js";

export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOSYMFOLLOW: 0x100,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  SILENT: 0x8000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  I_VERSION: 0x800000,
  STRICTATIME: 0x1000000,
  LAZYTIME: 0x2000000,
} as const;

/** Propagation changes need a mount(2) call of their own (only MS_REC may accompany them). */
export const PROPAGATION = MS.SHARED | MS.PRIVATE | MS.SLAVE | MS.UNBINDABLE;

type Effect = { set: number } | { clear: number };

const FLAGS: Record<string, Effect> = {
  ro: { set: MS.RDONLY },
  rw: { clear: MS.RDONLY },
  nosuid: { set: MS.NOSUID },
  suid: { clear: MS.NOSUID },
  nodev: { set: MS.NODEV },
  dev: { clear: MS.NODEV },
  noexec: { set: MS.NOEXEC },
  exec: { clear: MS.NOEXEC },
  sync: { set: MS.SYNCHRONOUS },
  async: { clear: MS.SYNCHRONOUS },
  remount: { set: MS.REMOUNT },
  mand: { set: MS.MANDLOCK },
  nomand: { clear: MS.MANDLOCK },
  dirsync: { set: MS.DIRSYNC },
  nosymfollow: { set: MS.NOSYMFOLLOW },
  noatime: { set: MS.NOATIME },
  atime: { clear: MS.NOATIME },
  nodiratime: { set: MS.NODIRATIME },
  diratime: { clear: MS.NODIRATIME },
  bind: { set: MS.BIND },
  rbind: { set: MS.BIND | MS.REC },
  silent: { set: MS.SILENT },
  loud: { clear: MS.SILENT },
  unbindable: { set: MS.UNBINDABLE },
  runbindable: { set: MS.UNBINDABLE | MS.REC },
  private: { set: MS.PRIVATE },
  rprivate: { set: MS.PRIVATE | MS.REC },
  slave: { set: MS.SLAVE },
  rslave: { set: MS.SLAVE | MS.REC },
  shared: { set: MS.SHARED },
  rshared: { set: MS.SHARED | MS.REC },
  relatime: { set: MS.RELATIME },
  norelatime: { clear: MS.RELATIME },
  iversion: { set: MS.I_VERSION },
  noiversion: { clear: MS.I_VERSION },
  strictatime: { set: MS.STRICTATIME },
  nostrictatime: { clear: MS.STRICTATIME },
  lazytime: { set: MS.LAZYTIME },
  nolazytime: { clear: MS.LAZYTIME },
};

/** Options that only mean something to mount(8)/fstab; the kernel would reject them. */
const FSTAB_ONLY = new Set([
  "defaults",
  "auto",
  "noauto",
  "nofail",
  "_netdev",
  "user",
  "nouser",
  "users",
  "owner",
  "group",
]);

/** Data strings longer than a page are refused by the kernel. */
const MAX_DATA = 4095;

export interface MountOptions {
  /** mount(2) flags for the mount itself (propagation bits removed). */
  flags: number;
  /** Propagation flags (with MS_REC if asked) to apply in a second call; 0 for none. */
  propagation: number;
  /** The filesystem-specific options, comma-joined. */
  data: string;
  /** Flags an option explicitly turned off ("rw", "exec", "dev"...), for merging into a remount. */
  cleared: number;
}

/** Splits each entry at unescaped commas ("a,b" and ["a", "b"] mean the same), then classifies. */
export function parseMountOptions(options: readonly string[]): MountOptions {
  let flags = 0;
  let cleared = 0;
  const data: string[] = [];
  for (const entry of options) {
    for (const raw of entry.split(/(?<!\\),/)) {
      const option = raw.trim();
      if (
        option === "" ||
        FSTAB_ONLY.has(option) ||
        option.startsWith("x-") ||
        option.startsWith("comment=")
      ) {
        continue;
      }
      if (option === "loop") {
        throw new InvalidInputError(`mount option "loop" is not supported; pass a block device`);
      }
      const effect = FLAGS[option];
      if (!effect) data.push(option);
      else if ("set" in effect) {
        flags |= effect.set;
        cleared &= ~effect.set;
      } else {
        flags &= ~effect.clear;
        cleared |= effect.clear;
      }
    }
  }
  const joined = data.join(",");
  if (joined.length > MAX_DATA) {
    throw new InvalidInputError(`mount data is ${joined.length} bytes; the kernel takes at most ${MAX_DATA}`);
  }
  // MS_REC qualifies a bind in the first call and a propagation change in the second.
  const propagation = flags & PROPAGATION ? flags & (PROPAGATION | MS.REC) : 0;
  let mountFlags = flags & ~PROPAGATION;
  if (!(flags & MS.BIND)) mountFlags &= ~MS.REC;
  return { flags: mountFlags, propagation, data: joined, cleared };
}

/** Flags from a mountinfo "per-mount options" field (rw,nosuid,nodev,relatime), for remounts. */
export function flagsOfMountinfo(perMountOptions: string): number {
  let flags = 0;
  for (const option of perMountOptions.split(",")) {
    const effect = FLAGS[option];
    if (effect && "set" in effect && !(effect.set & (PROPAGATION | MS.BIND | MS.REMOUNT)))
      flags |= effect.set;
  }
  return flags;
}

/**
 * A remount replaces the mount's flags with the ones passed; keep those it already has (nosuid,
 * nodev, noexec on /dev/shm) unless the options turned them off explicitly.
 */
export function remountFlags(options: MountOptions, currentPerMountOptions: string): number {
  return options.flags | (flagsOfMountinfo(currentPerMountOptions) & ~options.cleared);
}

/** Removes options the agent consumes itself (e.g. fsgid=), leaving what the kernel should see. */
export function withoutOptions(options: readonly string[], drop: (option: string) => boolean): string[] {
  return options
    .flatMap((entry) => entry.split(/(?<!\\),/))
    .map((o) => o.trim())
    .filter((o) => o !== "" && !drop(o));
}

/** key=value options as a map (later keys win); bare words are skipped. */
export function optionValues(options: readonly string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (const option of withoutOptions(options, () => false)) {
    const eq = option.indexOf("=");
    if (eq > 0) values.set(option.slice(0, eq), option.slice(eq + 1));
  }
  return values;
}
