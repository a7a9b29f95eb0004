// Stage: put a finished kernel into the cache (<cache>/kernel/kernels/<key>/) atomically, and
// copy a cached kernel into a user's output directory. manifest.json is written last, so a
// cache entry counts only when it is complete.
import { constants } from "node:fs";
import { copyFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { withStaging } from "../../util/atomic.js";
import { describeArtifact, writeManifest } from "../../util/manifest.js";
import { type KernelManifest, readKernelManifest } from "../manifest.js";

export interface KernelArtifacts {
  /** Directory holding the files below. */
  dir: string;
  vmlinux: string;
  /** bzImage (x86_64). */
  bzImage: string;
  /** The final .config. */
  config: string;
  manifestPath: string;
  manifest: KernelManifest;
  /** True when nothing was built because the cache already had this kernel. */
  cached: boolean;
}

export const KERNEL_FILES = { vmlinux: "vmlinux", bzImage: "bzImage", config: "config" } as const;

function artifactsIn(dir: string, manifest: KernelManifest, cached: boolean): KernelArtifacts {
  return {
    dir,
    vmlinux: join(dir, KERNEL_FILES.vmlinux),
    bzImage: join(dir, KERNEL_FILES.bzImage),
    config: join(dir, KERNEL_FILES.config),
    manifestPath: join(dir, "manifest.json"),
    manifest,
    cached,
  };
}

/** A complete cache entry (manifest present, every artifact there with its recorded size). */
export async function findCachedKernel(dir: string): Promise<KernelArtifacts | undefined> {
  const manifest = await readKernelManifest(join(dir, "manifest.json"));
  if (manifest?.kind !== "kata-guest-kernel") return undefined;
  for (const artifact of manifest.artifacts) {
    const info = await stat(join(dir, artifact.name)).catch(() => undefined);
    if (info?.size !== artifact.bytes) return undefined;
  }
  return artifactsIn(dir, manifest, true);
}

/** Copies the built files into the cache entry and writes its manifest. */
export async function installKernel(
  entryDir: string,
  files: { vmlinux: string; bzImage: string; config: string },
  manifestFor: (artifacts: KernelManifest["artifacts"]) => KernelManifest,
): Promise<KernelArtifacts> {
  const { manifest } = await withStaging(entryDir, async (staging) => {
    for (const [key, name] of Object.entries(KERNEL_FILES)) {
      await copyFile(files[key as keyof typeof files], staging.path(name), constants.COPYFILE_FICLONE);
    }
    const artifacts = await Promise.all(
      Object.values(KERNEL_FILES).map((n) => describeArtifact(staging.path(n))),
    );
    const manifest = manifestFor(artifacts);
    await writeManifest(staging.path("manifest.json"), manifest as unknown as Record<string, unknown>);
    return { artifacts: [...Object.values(KERNEL_FILES), "manifest.json"], manifest };
  });
  return artifactsIn(entryDir, manifest, false);
}

/** Copies a kernel's files (and manifest) into `outDir`, atomically. */
export async function exportKernel(kernel: KernelArtifacts, outDir: string): Promise<KernelArtifacts> {
  await withStaging(outDir, async (staging) => {
    const names = [...Object.values(KERNEL_FILES), "manifest.json"];
    for (const name of names) {
      await copyFile(join(kernel.dir, name), staging.path(name), constants.COPYFILE_FICLONE);
    }
    return { artifacts: names };
  });
  return artifactsIn(outDir, kernel.manifest, kernel.cached);
}
