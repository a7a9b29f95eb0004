// Stage: lay a kernel's files (vmlinux, bzImage, config, and an existing manifest when copying
// a finished kernel) into the staging directory of a cache entry or an output directory.
import { constants } from "node:fs";
import { copyFile } from "node:fs/promises";
import type { With } from "../context.js";
import { KERNEL_FILES, MANIFEST_FILE } from "../kernel/cache.js";

export interface KernelFiles {
  vmlinux: string;
  bzImage: string;
  config: string;
  /** A finished kernel's manifest.json, copied as it is. */
  manifest?: string;
}

export async function installKernel(ctx: With<"staging">, input: KernelFiles): Promise<void> {
  const files: [string, string][] = [
    [input.vmlinux, KERNEL_FILES.vmlinux],
    [input.bzImage, KERNEL_FILES.bzImage],
    [input.config, KERNEL_FILES.config],
    ...(input.manifest ? [[input.manifest, MANIFEST_FILE] as [string, string]] : []),
  ];
  for (const [from, name] of files) {
    // A reflink where the filesystem has them: a kernel tree's vmlinux is tens of MB.
    await copyFile(from, ctx.staging.path(name), constants.COPYFILE_FICLONE);
    ctx.artifacts.push(name);
  }
}
