// Shared setup for the kernel builder's integration tests: the real kernel source (Debian's
// linux-source-6.1, installed by .ci/setup-host.sh) and a cache directory that survives runs,
// so the 138 MB tarball is unpacked once (about 20-30 s) and later runs reuse the tree.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const DEBIAN_KERNEL_TARBALL = "/usr/src/linux-source-6.1.tar.xz";

const repo = fileURLToPath(new URL("../..", import.meta.url));

/** $KATA_BUILD_CACHE, or .cache/kata-build in the repository (git-ignored). */
export function kernelTestCache(): string {
  return process.env.KATA_BUILD_CACHE ?? join(repo, ".cache", "kata-build");
}

export function repoPath(...parts: string[]): string {
  return join(repo, ...parts);
}

/** Fails loudly (no silent skip) when the kernel source package is missing. */
export function requireKernelSource(): string {
  if (!existsSync(DEBIAN_KERNEL_TARBALL)) {
    throw new Error(
      `${DEBIAN_KERNEL_TARBALL} is missing: run .ci/setup-host.sh (apt-get install linux-source-6.1)`,
    );
  }
  return DEBIAN_KERNEL_TARBALL;
}
