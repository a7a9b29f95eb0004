// A StorageSpec (the agent's storage request) with every field empty but those given, and
// cleaning up after cryptsetup on a host without device-mapper.
import { existsSync, rmdirSync, rmSync } from "node:fs";
import type { StorageSpec } from "../../agent/src/storage/index.js";

export function storageSpec(fields: Partial<StorageSpec>): StorageSpec {
  return {
    driver: "",
    driverOptions: [],
    source: "",
    fstype: "",
    options: [],
    mountPoint: "",
    shared: false,
    ...fields,
  };
}

/**
 * Runs `fn` (which runs cryptsetup), then removes the /dev/mapper/control node cryptsetup makes
 * on a host whose kernel has no device-mapper: a node nothing stands behind, which would make
 * the next program believe there is one. The machine is left as it was found.
 */
export async function leavingNoDeviceMapperNode<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    if (!existsSync("/sys/class/misc/device-mapper")) {
      rmSync("/dev/mapper/control", { force: true });
      try {
        rmdirSync("/dev/mapper");
      } catch {
        // not there, or holding someone else's entries
      }
    }
  }
}
