// Stage: the kernel command line that mounts the image's root, written beside the image as
// <name>.cmdline. A verity image is opened as /dev/dm-0 by dm-mod.create (no initramfs needed),
// and its parameters also go to <name>.root_hash.txt, the file upstream's tools read.
import { writeFile } from "node:fs/promises";
import type { With } from "../context.js";
import {
  dmModCreate,
  type FsType,
  rootParams,
  type VerityParams,
  verityParams,
} from "../formats/kernel-cmdline.js";

export interface KernelCmdlineInput {
  /** The image's file name; the outputs are named after it. */
  name: string;
  fs: FsType;
  /** A DAX image boots from /dev/pmem0p1 with rootflags=dax. */
  dax: boolean;
  /** The image's hash tree, when it has one (partition 2). */
  verity?: VerityParams & { hashBytes: number };
}

export interface KernelCmdline {
  cmdline: string;
  verity?: { rootHash: string; salt: string; params: string };
}

export async function writeKernelCmdline(
  ctx: With<"staging">,
  input: KernelCmdlineInput,
): Promise<KernelCmdline> {
  const { name, verity } = input;
  let cmdline: string;
  let record: KernelCmdline["verity"];
  if (verity) {
    cmdline = `${dmModCreate(verity, "/dev/vda1", "/dev/vda2")} ${rootParams(input.fs, false, "/dev/dm-0")}`;
    const params = verityParams(verity);
    record = { rootHash: verity.rootHash, salt: verity.salt, params };
    await writeFile(ctx.staging.path(`${name}.root_hash.txt`), `${params}\n`);
    ctx.artifacts.push(`${name}.root_hash.txt`);
    ctx.manifest.verity = { ...record, dataBlocks: verity.dataBlocks, hashBytes: verity.hashBytes };
  } else {
    cmdline = rootParams(input.fs, input.dax, input.dax ? "/dev/pmem0p1" : "/dev/vda1");
  }
  await writeFile(ctx.staging.path(`${name}.cmdline`), `${cmdline}\n`);
  ctx.artifacts.push(`${name}.cmdline`);
  ctx.manifest.kernelCmdline = cmdline;
  return { cmdline, ...(record ? { verity: record } : {}) };
}
