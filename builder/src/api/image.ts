// image(): a disk image of a root filesystem (ext4 or erofs, optional dm-verity, raw and/or
// qcow2), as `kata-build image` makes it.
import { join } from "node:path";
import { sourceDateEpoch } from "../context.js";
import { buildImage, type DiskFormat, type FsType, qcow2Name } from "../pipelines/image.js";
import type { Given, OptionTable } from "../util/options.js";
import { resolveOptions } from "../util/options.js";
import { type BuildHooks, progressOf } from "./hooks.js";
import { outOption, rootfsInputOption } from "./shared-options.js";

export const imageOptions = {
  rootfs: rootfsInputOption,
  out: outOption("out"),
  name: { kind: "string", arg: "FILE", default: "kata-containers.img", help: "image file name" },
  fs: { kind: "string", arg: "TYPE", choices: ["ext4", "erofs"], default: "ext4", help: "filesystem" },
  verity: { kind: "boolean", help: "add a dm-verity hash partition and print the root hash" },
  dax: { kind: "boolean", help: "prepend the 2 MiB NVDIMM/DAX header (for pmem-backed guests)" },
  format: {
    kind: "string",
    arg: "FORMAT",
    choices: ["raw", "qcow2", "both"],
    default: "raw",
    help: "disk file format: raw (NAME), qcow2 (NAME without .img, plus .qcow2: qemu-img convert), or both",
  },
  alignMib: { kind: "number", arg: "MIB", default: 2, help: "round the image size up to this many MiB" },
  freeSpace: { kind: "number", arg: "MIB", default: 0, help: "extra free space in the ext4 filesystem" },
  seed: {
    kind: "string",
    arg: "TEXT",
    help: "seed for UUIDs, salt and disk id (default: from the content)",
  },
} as const satisfies OptionTable;

export type ImageOptions = Given<typeof imageOptions>;

export interface ImageResult {
  /** The raw disk image (format raw or both). */
  image?: string;
  /** The qcow2 disk image (format qcow2 or both). */
  qcow2?: string;
  manifest: string;
  /** The kernel command line that boots it (root=, rootfstype=, and dm-mod.create= with verity). */
  cmdline: string;
  /** With `verity`: the root hash, salt and the kernel_verity_params line the Kata runtime takes. */
  verity?: { rootHash: string; salt: string; params: string };
  /** sha256 of the input tree's content (paths, modes, owners, file bytes, links). */
  inputTreeSha256?: string;
  artifacts: string[];
}

export async function image(options: ImageOptions = {}, hooks: BuildHooks = {}): Promise<ImageResult> {
  const o = resolveOptions(imageOptions, options);
  const format = o.format as DiskFormat;
  const result = await buildImage(
    {
      rootfs: o.rootfs,
      out: o.out,
      name: o.name,
      fs: o.fs as FsType,
      dax: o.dax === true,
      verity: o.verity === true,
      alignMiB: o.alignMib,
      freeMiB: o.freeSpace,
      epoch: sourceDateEpoch(),
      seed: o.seed,
      format,
    },
    progressOf(hooks),
  );
  const at = (name: string) => join(o.out, name);
  const tree = (result.manifest.input as { treeSha256?: string } | undefined)?.treeSha256;
  return {
    ...(format !== "qcow2" ? { image: at(o.name) } : {}),
    ...(format !== "raw" ? { qcow2: at(qcow2Name(o.name)) } : {}),
    manifest: at(`${o.name}.manifest.json`),
    cmdline: result.cmdline,
    ...(result.verity ? { verity: result.verity } : {}),
    ...(tree ? { inputTreeSha256: tree } : {}),
    artifacts: result.artifacts.map(at),
  };
}
