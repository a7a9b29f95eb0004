// The contract between the storage manager and its drivers (upstream's StorageHandler).
import type { DeviceManager } from "../devices/index.js";
import type { Logger } from "../log.js";
import type { FsGroup } from "./fs-group.js";
import type { Mounter } from "./mounter.js";
import type { BindWatcher } from "./watcher.js";

/** The fields of a grpc.Storage a driver reads (the generated message satisfies it). */
export interface StorageSpec {
  driver: string;
  driverOptions: string[];
  source: string;
  fstype: string;
  options: string[];
  mountPoint: string;
  fsGroup?: FsGroup | undefined;
  shared: boolean;
}

/** Who holds a storage: the sandbox (CreateSandbox) or a container id (CreateContainer). */
export type StorageOwner = string;
export const SANDBOX_OWNER: StorageOwner = "sandbox";

export interface StorageContext {
  owner: StorageOwner;
  /** The agent's run directory (/run/kata-containers). */
  runDir: string;
  sysfsRoot: string;
  mounter: Mounter;
  devices: DeviceManager;
  watcher: BindWatcher;
  log: Logger;
  signal: AbortSignal | undefined;
}

export interface StorageResult {
  /** The path to report to the caller (a mount); undefined for drivers that mount nothing. */
  path: string | undefined;
  /** Undoes the driver's work once the last holder has released the storage. */
  cleanup(): Promise<void>;
  /**
   * Keep it for the sandbox's lifetime even when no container holds it: emptyDir-style volumes
   * (ephemeral, local) must survive a container restart with their data.
   */
  sandboxLifetime?: boolean;
}

/** One driver file: the names it serves and the function that sets a storage up. */
export interface StorageHandler {
  readonly driverTypes: readonly string[];
  add(storage: StorageSpec, ctx: StorageContext): Promise<StorageResult>;
}
