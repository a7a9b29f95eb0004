// A StorageSpec (the agent's storage request) with every field empty but those given.
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
