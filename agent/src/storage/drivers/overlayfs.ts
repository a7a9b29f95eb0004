// overlayfs: options carry lowerdir/upperdir/workdir. "io.katacontainers.fs-opt.overlay-rw" asks
// for a writable layer in <runDir>/<container id>/{upper,work}; driver option
// "io.katacontainers.volume.overlayfs.create_directory=<dir>" (repeatable) pre-creates directories
// (upper and work on another storage). The agent's own options never reach the kernel.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { InvalidInputError, RuntimeFailure } from "../../core/domain-error.js";
import { message, mountStorage } from "../common.js";
import { SANDBOX_OWNER, type StorageContext, type StorageResult, type StorageSpec } from "../handler.js";
import { withoutOptions } from "../mount-options.js";

export const driverTypes = ["overlayfs"] as const;

export const OVERLAY_RW = "io.katacontainers.fs-opt.overlay-rw";
export const CREATE_DIRECTORY = "io.katacontainers.volume.overlayfs.create_directory";

export async function overlayOptions(
  storage: StorageSpec,
  ctx: Pick<StorageContext, "owner" | "runDir">,
): Promise<string[]> {
  const options = withoutOptions(storage.options, (o) => o.startsWith("io.katacontainers."));
  for (const entry of storage.driverOptions) {
    const [key, dir] = [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)];
    if (key !== CREATE_DIRECTORY) continue;
    if (!dir.startsWith("/")) {
      throw new InvalidInputError(
        `storage driver "overlayfs": ${CREATE_DIRECTORY} needs an absolute path, got ${JSON.stringify(dir)}`,
      );
    }
    await mkdirOrFail(dir);
  }
  if (storage.options.includes(OVERLAY_RW)) {
    if (ctx.owner === SANDBOX_OWNER) {
      throw new InvalidInputError(
        `storage driver "overlayfs": ${OVERLAY_RW} needs a container (it is per container)`,
      );
    }
    const base = join(ctx.runDir, ctx.owner);
    const upper = join(base, "upper");
    const work = join(base, "work");
    await mkdirOrFail(upper);
    await mkdirOrFail(work);
    options.push(`upperdir=${upper}`, `workdir=${work}`);
  }
  return options;
}

export async function add(storage: StorageSpec, ctx: StorageContext): Promise<StorageResult> {
  const options = await overlayOptions(storage, ctx);
  return mountStorage(storage, ctx, { fstype: "overlay", source: storage.source || "overlay", options });
}

async function mkdirOrFail(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new RuntimeFailure(`storage driver "overlayfs": cannot create ${dir}: ${message(err)}`, {
      cause: err,
    });
  }
}
