// kata-build image: a raw MBR disk image of a root filesystem, optionally with dm-verity.
import { resolve } from "node:path";
import { sourceDateEpoch } from "../context.js";
import type { FsType } from "../pipelines/image.js";
import { buildImage } from "../pipelines/image.js";
import { defineCommand } from "./command.js";
import { outOption, quietOption, rootfsInputOption } from "./shared-options.js";

export const imageCommand = defineCommand({
  name: "image",
  summary: "pack a root filesystem into a raw disk image (ext4 or erofs, optional dm-verity)",
  usage: "kata-build image --rootfs DIR|TAR [--out DIR] [options]",
  description: [
    "Writes OUT/NAME: an MBR disk with the filesystem in partition 1 from 1 MiB (and with --verity",
    "the hash tree in partition 2), sized from the content. No loop devices, mounts or root needed.",
    "Prints the kernel command line (also in NAME.cmdline and NAME.manifest.json); with --verity",
    "the root hash, salt and dm-mod.create= line, and NAME.root_hash.txt. With SOURCE_DATE_EPOCH",
    "set, the same root filesystem always gives the same bytes.",
  ].join("\n"),
  options: {
    rootfs: rootfsInputOption,
    out: outOption("out"),
    name: { kind: "string", arg: "FILE", default: "kata-containers.img", help: "image file name" },
    fs: { kind: "string", arg: "TYPE", choices: ["ext4", "erofs"], default: "ext4", help: "filesystem" },
    verity: { kind: "boolean", help: "add a dm-verity hash partition and print the root hash" },
    dax: { kind: "boolean", help: "prepend the 2 MiB NVDIMM/DAX header (for pmem-backed guests)" },
    alignMib: { kind: "number", arg: "MIB", default: 2, help: "round the image size up to this many MiB" },
    freeSpace: { kind: "number", arg: "MIB", default: 0, help: "extra free space in the ext4 filesystem" },
    seed: {
      kind: "string",
      arg: "TEXT",
      help: "seed for UUIDs, salt and disk id (default: from the content)",
    },
    quiet: quietOption,
  },
  async run(values, _positionals, progress) {
    const result = await buildImage(
      {
        rootfs: resolve(values.rootfs),
        out: resolve(values.out),
        name: values.name,
        fs: values.fs as FsType,
        dax: values.dax === true,
        verity: values.verity === true,
        alignMiB: values.alignMib,
        freeMiB: values.freeSpace,
        epoch: sourceDateEpoch(),
        seed: values.seed,
      },
      progress,
    );
    process.stdout.write(`image: ${resolve(values.out, values.name)}\n`);
    if (result.verity) {
      process.stdout.write(`root hash: ${result.verity.rootHash}\nsalt: ${result.verity.salt}\n`);
    }
    process.stdout.write(`kernel command line: ${result.cmdline}\n`);
  },
});
