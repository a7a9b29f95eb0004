// kata-build initrd: a compressed cpio newc archive of a root filesystem (the library's initrd()).
import { defaultLevel, initrd, initrdOptions } from "../api/initrd.js";
import { defineCommand } from "./command.js";

export const initrdCommand = defineCommand({
  name: "initrd",
  summary: "pack a root filesystem into an initrd (cpio newc, zstd or gzip)",
  usage: "kata-build initrd --rootfs DIR|TAR [--out DIR] [--compression zstd|gzip|none]",
  description: [
    "Writes OUT/NAME, a cpio newc archive written by kata-build itself (sorted entries, fixed times,",
    `inode numbers by position), zstd -${defaultLevel.zstd} by default (the guest kernel's RD_ZSTD; the`,
    `Debian guest fits in 60 MB), or gzip -${defaultLevel.gzip} for kernels built without RD_ZSTD.`,
    "Adds /init pointing at the agent (agent as init) or systemd when the tree has none. The manifest",
    "records the sha256 of the input tree's content.",
  ].join("\n"),
  options: initrdOptions,
  configurable: true,
  run: (values, _positionals, { hooks }) => initrd(values, hooks),
  text: (result) => `initrd: ${result.initrd}\n`,
});
