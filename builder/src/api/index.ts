// kata-guest-toolkit/builder: kata-build as a library. Each function takes the options its
// command takes (by property name: agentInit for --agent-init), applies the same defaults and
// checks, and reports progress through `onProgress`; `kata-build <command>` is a thin layer over
// it. A bad option throws a UsageError, a failed build a BuildError with a hint.
// rootfs, image, initrd and kernel build; boot runs the boot check; vm boots a guest and hands
// back the running machine; runtimeConfig writes the Kata runtime's configuration for a guest;
// cacheList and cacheClean look after the shared cache.
//
//   import { rootfs, image } from "kata-guest-toolkit/builder";
//   const guest = await rootfs({ distro: "debian", agentInit: true, package: ["jq"], out: "out" },
//     { onProgress: (e) => e.type === "step" && console.error(e.name) });
//   const disk = await image({ rootfs: guest.root, fs: "erofs", verity: true, out: "out" });
//   console.log(disk.verity?.params);
export { UsageError } from "../../../agent/src/cli/index.js";
export { BuildError } from "../util/errors.js";
export type { ProgressEvent } from "../util/progress.js";
export {
  type BootForm,
  type BootHooks,
  type BootOptions,
  type BootReport,
  type BootResult,
  boot,
  bootOptions,
} from "./boot.js";
export {
  CACHE_KIND_HELP,
  CACHE_KINDS,
  type CacheCleaning,
  type CacheKind,
  type CacheListing,
  type CacheOptions,
  cacheClean,
  cacheList,
  cacheOptions,
} from "./cache.js";
export { type BuildConfig, type LoadConfigOptions, loadBuildConfig } from "./config-file.js";
export type { BuildHooks } from "./hooks.js";
export { type ImageOptions, type ImageResult, image, imageOptions } from "./image.js";
export { type InitrdOptions, type InitrdResult, initrd, initrdOptions } from "./initrd.js";
export {
  type KernelBuildResult,
  type KernelConfigResult,
  type KernelOptions,
  type KernelResult,
  kernel,
  kernelOptions,
} from "./kernel.js";
export { type RootfsOptions, type RootfsResult, rootfs, rootfsOptions } from "./rootfs.js";
export {
  type RuntimeConfigOptions,
  type RuntimeConfigResult,
  runtimeConfig,
  runtimeConfigOptions,
} from "./runtime-config.js";
export { type Vm, type VmAddresses, type VmExit, type VmOptions, vm, vmOptions } from "./vm.js";
