// The option table of every build command, by command name: what kata-build.toml's tables
// hold and what the CLI's flags parse into.
import { bootOptions } from "./boot.js";
import { imageOptions } from "./image.js";
import { initrdOptions } from "./initrd.js";
import { kernelOptions } from "./kernel.js";
import { rootfsOptions } from "./rootfs.js";
import { runtimeConfigOptions } from "./runtime-config.js";
import { vmOptions } from "./vm.js";

export const buildTables = {
  rootfs: rootfsOptions,
  image: imageOptions,
  initrd: initrdOptions,
  kernel: kernelOptions,
  boot: bootOptions,
  vm: vmOptions,
  "runtime-config": runtimeConfigOptions,
};

export type BuildTables = typeof buildTables;
