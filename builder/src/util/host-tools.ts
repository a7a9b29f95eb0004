// External programs the builder runs, and the Debian package that provides each, so a missing
// tool is reported with the command that installs it.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { BuildError } from "./errors.js";

export const debianPackageOf: Record<string, string> = {
  tdnf: "(none in Debian: use dnf)",
  dnf: "dnf",
  rpm: "rpm",
  rpmbuild: "rpm",
  createrepo_c: "createrepo-c",
  gpg: "gnupg",
  gpgconf: "gpgconf",
  mmdebstrap: "mmdebstrap",
  "apt-get": "apt",
  "apt-cache": "apt",
  cp: "coreutils",
  "mkfs.ext4": "e2fsprogs",
  e2fsck: "e2fsprogs",
  debugfs: "e2fsprogs",
  dumpe2fs: "e2fsprogs",
  "fsck.ext4": "e2fsprogs",
  "dpkg-query": "dpkg",
  chroot: "coreutils",
  umount: "mount",
  tune2fs: "e2fsprogs",
  "mkfs.erofs": "erofs-utils",
  "fsck.erofs": "erofs-utils",
  veritysetup: "cryptsetup-bin",
  sfdisk: "fdisk",
  cpio: "cpio",
  zstd: "zstd",
  xz: "xz-utils",
  make: "build-essential",
  cc: "build-essential",
  gcc: "build-essential",
  bc: "bc",
  flex: "flex",
  bison: "bison",
  "qemu-img": "qemu-utils",
  "qemu-system-x86_64": "qemu-system-x86",
  busybox: "busybox-static",
  tar: "tar",
  node: "nodejs",
  ldd: "libc-bin",
};

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of `tool` on PATH (or `tool` itself when it is a path), or undefined. */
export function findTool(tool: string, path = process.env.PATH ?? ""): string | undefined {
  if (tool.includes("/")) return executable(tool) ? tool : undefined;
  for (const dir of [...path.split(delimiter), "/usr/sbin", "/sbin"]) {
    if (!dir) continue;
    const candidate = join(dir, tool);
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

/** Absolute path of `tool`, or a BuildError naming the Debian package to install. */
export function requireTool(tool: string, purpose: string): string {
  const found = findTool(tool);
  if (found) return found;
  const pkg = debianPackageOf[tool];
  throw new BuildError(
    `${tool} is needed to ${purpose} but is not installed`,
    pkg && !pkg.startsWith("(")
      ? `install it with: apt-get install ${pkg}`
      : `install ${tool} ${pkg ?? ""}`.trim(),
  );
}
