// kata-build image: a disk image of a root filesystem, optionally with dm-verity (the library's image()).
import { image, imageOptions } from "../api/image.js";
import { defineCommand } from "./command.js";

export const imageCommand = defineCommand({
  name: "image",
  summary: "pack a root filesystem into a disk image (ext4 or erofs, optional dm-verity; raw or qcow2)",
  usage: "kata-build image --rootfs DIR|TAR [--out DIR] [--format raw|qcow2|both] [options]",
  description: [
    "Writes OUT/NAME: an MBR disk with the filesystem in partition 1 from 1 MiB (and with --verity",
    "the hash tree in partition 2), sized from the content. No loop devices, mounts or root needed.",
    "--format qcow2 converts it with qemu-img (the guest sees the same bytes). Prints the kernel",
    "command line (also in NAME.cmdline and NAME.manifest.json); with --verity the root hash, salt",
    "and dm-mod.create= line, and NAME.root_hash.txt. The manifest records the sha256 of the input",
    "tree's content. With SOURCE_DATE_EPOCH set, the same root filesystem always gives the same bytes.",
  ].join("\n"),
  options: imageOptions,
  configurable: true,
  run: (values, _positionals, { hooks }) => image(values, hooks),
  text: (result) =>
    [
      ...(result.image ? [`image: ${result.image}`] : []),
      ...(result.qcow2 ? [`qcow2: ${result.qcow2}`] : []),
      ...(result.verity ? [`root hash: ${result.verity.rootHash}`, `salt: ${result.verity.salt}`] : []),
      `kernel command line: ${result.cmdline}`,
      "",
    ].join("\n"),
});
