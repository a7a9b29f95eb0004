// A disk image given to `kata-build vm`: its filesystem, DAX header and dm-verity parameters,
// from the manifest `kata-build image` writes beside it (IMAGE.manifest.json), or from what the
// user says (--fs, --dax, --verity-params), which wins.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { type FsType, parseVerityParams, type VerityParams } from "../formats/kernel-cmdline.js";
import { BuildError } from "../util/errors.js";
import type { BootImage } from "./profiles.js";

export interface UserImageFlags {
  fs?: FsType;
  dax?: boolean;
  /** kernel_verity_params: the line itself, or a file holding it (IMAGE.root_hash.txt). */
  verityParams?: string;
}

interface ImageManifest {
  inputs?: { fs?: unknown; dax?: unknown };
  verity?: { params?: unknown };
}

export async function describeUserImage(path: string, flags: UserImageFlags): Promise<BootImage> {
  if (!existsSync(path)) throw new BuildError(`no image at ${path}`);
  const manifestFile = `${path}.manifest.json`;
  let manifest: ImageManifest = {};
  if (existsSync(manifestFile)) {
    try {
      manifest = JSON.parse(await readFile(manifestFile, "utf8")) as ImageManifest;
    } catch (err) {
      throw new BuildError(
        `cannot read ${manifestFile}: ${(err as Error).message}`,
        "pass --fs, --dax and --verity-params instead",
      );
    }
  }
  const fs = flags.fs ?? (manifest.inputs?.fs === "erofs" ? "erofs" : "ext4");
  const dax = flags.dax ?? manifest.inputs?.dax === true;
  const line =
    flags.verityParams !== undefined
      ? existsSync(flags.verityParams)
        ? await readFile(flags.verityParams, "utf8")
        : flags.verityParams
      : typeof manifest.verity?.params === "string"
        ? manifest.verity.params
        : undefined;
  let verity: VerityParams | undefined;
  if (line !== undefined) {
    try {
      verity = parseVerityParams(line);
    } catch (err) {
      throw new BuildError(
        `the image's kernel_verity_params are not usable: ${(err as Error).message}`,
        "give --verity-params as root_hash=...,salt=...,data_blocks=...,data_block_size=...,hash_block_size=... or a file holding that line",
      );
    }
  }
  return { path, fs, dax, ...(verity ? { verity } : {}) };
}
