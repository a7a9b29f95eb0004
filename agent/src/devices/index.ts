export type { DeviceContext, DeviceSpec } from "./context.js";
export { deviceHandlers } from "./handlers/index.js";
export { parseScsiAddress } from "./handlers/scsi.js";
export { DeviceManager, type DeviceManagerOptions, type ResolvedDevice } from "./manager.js";
export { isPciPath, type PciPath, parsePciPath, pciDeviceDir } from "./pci-path.js";
export { type GuestDevice, updateSpecDevices } from "./spec-update.js";
export type { BlockDevice, DeviceRoots } from "./sysfs.js";
export { formatMs, hotplugHint, waitFor } from "./wait.js";
