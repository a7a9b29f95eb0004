// kata-build initrd: a compressed cpio newc archive of a root filesystem.
import { resolve } from "node:path";
import { sourceDateEpoch } from "../context.js";
import type { Compression } from "../pipelines/initrd.js";
import { buildInitrd, defaultCompression, defaultLevel } from "../pipelines/initrd.js";
import { defineCommand } from "./command.js";
import { outOption, quietOption, rootfsInputOption } from "./shared-options.js";

export const initrdCommand = defineCommand({
  name: "initrd",
  summary: "pack a root filesystem into an initrd (cpio newc, zstd or gzip)",
  usage: "kata-build initrd --rootfs DIR|TAR [--out DIR] [--compression zstd|gzip|none]",
  description: [
    "Writes OUT/NAME, a cpio newc archive written by kata-build itself (sorted entries, fixed times,",
    `inode numbers by position), zstd -${defaultLevel.zstd} by default (the guest kernel's RD_ZSTD; the`,
    `Debian guest fits in 60 MB), or gzip -${defaultLevel.gzip} for kernels built without RD_ZSTD.`,
    "Adds /init pointing at the agent (agent as init) or systemd when the tree has none.",
  ].join("\n"),
  options: {
    rootfs: rootfsInputOption,
    out: outOption("out"),
    name: { kind: "string", arg: "FILE", default: "kata-containers-initrd.img", help: "initrd file name" },
    compression: {
      kind: "string",
      arg: "KIND",
      choices: ["zstd", "gzip", "none"],
      default: defaultCompression,
      help: "compression",
    },
    level: {
      kind: "number",
      arg: "N",
      help: `compression level (default: zstd ${defaultLevel.zstd}, gzip ${defaultLevel.gzip})`,
    },
    quiet: quietOption,
  },
  async run(values, _positionals, progress) {
    await buildInitrd(
      {
        rootfs: resolve(values.rootfs),
        out: resolve(values.out),
        name: values.name,
        compression: values.compression as Compression,
        level: values.level,
        epoch: sourceDateEpoch(),
      },
      progress,
    );
    process.stdout.write(`initrd: ${resolve(values.out, values.name)}\n`);
  },
});
