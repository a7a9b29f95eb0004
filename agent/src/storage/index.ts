export { storageHandlers } from "./drivers/index.js";
export type { FsGroup } from "./fs-group.js";
export { SANDBOX_OWNER, type StorageHandler, type StorageOwner, type StorageSpec } from "./handler.js";
export { StorageManager, type StorageManagerOptions } from "./manager.js";
export { MS, parseMountOptions } from "./mount-options.js";
export { kernelMounter, type MountCall, type Mounter } from "./mounter.js";
export type { Usage, VolumeStats } from "./volume.js";
