// The registry of kata-build commands: adding a command is one file and one line here.
import { bootCommand } from "./boot.js";
import { cacheCommand } from "./cache.js";
import type { Command } from "./command.js";
import { imageCommand } from "./image.js";
import { initrdCommand } from "./initrd.js";
import { kernelCommand } from "./kernel.js";
import { rootfsCommand } from "./rootfs.js";
import { runtimeConfigCommand } from "./runtime-config.js";
import { vmCommand } from "./vm.js";

export const commands: Command[] = [
  rootfsCommand as unknown as Command,
  imageCommand as unknown as Command,
  initrdCommand as unknown as Command,
  kernelCommand as unknown as Command,
  bootCommand as unknown as Command,
  vmCommand as unknown as Command,
  runtimeConfigCommand as unknown as Command,
  cacheCommand as unknown as Command,
];
