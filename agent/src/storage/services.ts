// The storage-side managers the agent runs with, built from its settings in one place: hot-plugged
// devices, storages (mounts and their reference counts) and CopyFile.
import { DeviceManager } from "../devices/index.js";
import { FileService } from "../files/index.js";
import type { Logger } from "../log.js";
import { StorageManager } from "./manager.js";

export interface StorageServices {
  devices: DeviceManager;
  storage: StorageManager;
  files: FileService;
}

export function createStorageServices(settings: {
  runDir: string;
  hotplugTimeoutMs: number;
  /** Running in a guest: late devices may be looked for by rescanning its buses. */
  inGuest: boolean;
  log: Logger;
}): StorageServices {
  const devices = new DeviceManager({
    hotplugTimeoutMs: settings.hotplugTimeoutMs,
    rescanBuses: settings.inGuest,
    log: settings.log,
  });
  const storage = new StorageManager({ runDir: settings.runDir, devices, log: settings.log });
  const files = new FileService({ root: storage.sharedDir, log: settings.log });
  return { devices, storage, files };
}
