// Storages of the sandbox and its containers: a driver registry plus reference
// counts per mount point. Storages with the same mount point are set up once; each holder (the
// sandbox or a container) is counted, and the storage is torn down when the last one releases it,
// except for shared storages and emptyDir-like volumes, which stay until the sandbox goes.
import { mkdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  type DomainError,
  InvalidInputError,
  RuntimeFailure,
  toDomainError,
  UnsupportedError,
  withContext,
} from "../core/domain-error.js";
import type { DeviceManager } from "../devices/index.js";
import { KeyedLock } from "../files/index.js";
import { Logger } from "../log.js";
import { checkMountPoint, mountFailure } from "./common.js";
import { parseFsgid } from "./drivers/ephemeral.js";
import { storageHandlers, UNSUPPORTED_DRIVERS } from "./drivers/index.js";
import type { StorageContext, StorageOwner, StorageResult, StorageSpec } from "./handler.js";
import { MS, parseMountOptions, remountFlags, withoutOptions } from "./mount-options.js";
import { kernelMounter, type Mounter, mountWithFollowUps } from "./mounter.js";
import { mountAt, readMountinfo } from "./mountinfo.js";
import { resizeVolume, type VolumeStats, volumeStats } from "./volume.js";
import { BindWatcher } from "./watcher.js";

export interface StorageManagerOptions {
  /** The agent's run directory (config runDir, /run/kata-containers). */
  runDir: string;
  devices: DeviceManager;
  /** Defaults to /sys. */
  sysfsRoot?: string;
  mounter?: Mounter;
  log?: Logger;
  /** watchable-bind polling interval (default 2 s). */
  watchIntervalMs?: number;
}

interface Held {
  driver: string;
  result: StorageResult;
  shared: boolean;
  /** Holder -> how many times it added this storage. */
  holders: Map<StorageOwner, number>;
}

export class StorageManager {
  readonly runDir: string;
  /** <runDir>/shared/containers: the shared filesystem's mount point and CopyFile's root. */
  readonly sharedDir: string;
  private readonly sysfsRoot: string;
  private readonly mounter: Mounter;
  private readonly log: Logger;
  private readonly devices: DeviceManager;
  private readonly watcher: BindWatcher;
  private readonly held = new Map<string, Held>();
  private readonly locks = new KeyedLock();

  constructor(options: StorageManagerOptions) {
    this.runDir = resolve(options.runDir);
    this.sharedDir = join(this.runDir, "shared", "containers");
    this.sysfsRoot = options.sysfsRoot ?? "/sys";
    this.mounter = options.mounter ?? kernelMounter;
    this.log = (options.log ?? Logger.create("error", () => {})).child({ subsystem: "storage" });
    this.devices = options.devices;
    this.watcher = new BindWatcher({
      root: join(this.sharedDir, "watchable"),
      mounter: this.mounter,
      log: this.log.child({ driver: "watchable-bind" }),
      ...(options.watchIntervalMs ? { intervalMs: options.watchIntervalMs } : {}),
    });
  }

  /** Storage.driver values this agent accepts. */
  drivers(): string[] {
    return Object.keys(storageHandlers).sort();
  }

  /**
   * Sets up `storages` for `owner` ("sandbox" or a container id), in order. Returns the mount
   * points to clean up with the container (upstream's mount list). If one fails, the ones this
   * call added are released again and the error names the driver and source.
   */
  async add(storages: readonly StorageSpec[], owner: StorageOwner, signal?: AbortSignal): Promise<string[]> {
    const added: string[] = [];
    const paths: string[] = [];
    try {
      for (const storage of storages) {
        if (signal?.aborted) throw toDomainError(signal.reason);
        const path = await this.addOne(storage, owner, signal);
        added.push(storage.mountPoint);
        if (path) paths.push(path);
      }
    } catch (err) {
      for (const mountPoint of added.reverse()) {
        await this.releaseOne(mountPoint, owner).catch((e: unknown) =>
          this.log.warn("rollback of a storage failed", { mountPoint, error: e }),
        );
      }
      throw err;
    }
    return paths;
  }

  /** Drops every storage `owner` holds; the last holder's release tears a storage down. */
  async release(owner: StorageOwner): Promise<void> {
    const failures: string[] = [];
    for (const [mountPoint, held] of [...this.held].reverse()) {
      const count = held.holders.get(owner) ?? 0;
      for (let i = 0; i < count; i++) {
        try {
          await this.releaseOne(mountPoint, owner);
        } catch (err) {
          failures.push(`${mountPoint}: ${toDomainError(err).message}`);
        }
      }
    }
    if (failures.length > 0) {
      throw new RuntimeFailure(`releasing storages of ${owner} failed: ${failures.join("; ")}`);
    }
  }

  /** DestroySandbox: tear down everything, newest first, whoever holds it. */
  async releaseAll(): Promise<void> {
    for (const [mountPoint, held] of [...this.held].reverse()) {
      await this.locks.run(mountPoint, async () => {
        this.held.delete(mountPoint);
        try {
          await held.result.cleanup();
        } catch (err) {
          this.log.warn("storage cleanup failed", { mountPoint, error: err });
        }
      });
    }
    await this.watcher.stop();
  }

  /** How many holds `mountPoint` has, per holder (for diagnostics and tests). */
  holders(mountPoint: string): ReadonlyMap<StorageOwner, number> | undefined {
    return this.held.get(mountPoint)?.holders;
  }

  /**
   * UpdateEphemeralMounts: ephemeral storages only; creates the mount point and, when options are
   * given (e.g. "remount", "size=64M"), mounts with them. fsgid= options are the agent's and are
   * dropped.
   */
  async updateEphemeral(storages: readonly StorageSpec[]): Promise<void> {
    for (const storage of storages) {
      if (storage.driver !== "ephemeral") {
        throw new InvalidInputError(
          `UpdateEphemeralMounts only updates ephemeral storages; ${storage.mountPoint} uses driver ${JSON.stringify(storage.driver)}`,
        );
      }
      checkMountPoint(storage);
      await mkdir(storage.mountPoint, { recursive: true });
      const options = withoutOptions(storage.options, (o) => o.startsWith("fsgid="));
      if (options.length === 0) continue;
      const parsed = parseMountOptions(options);
      const { propagation, data } = parsed;
      const current = parsed.flags & MS.REMOUNT ? await mountAt(storage.mountPoint) : undefined;
      const flags = current ? remountFlags(parsed, current.options) : parsed.flags;
      const fstype = storage.fstype || "tmpfs";
      this.log.info("updating ephemeral mount", { mountPoint: storage.mountPoint, flags, data });
      try {
        await mountWithFollowUps(
          this.mounter,
          { source: storage.source, target: storage.mountPoint, fstype, flags, data },
          propagation,
        );
      } catch (err) {
        throw mountFailure("ephemeral", storage.source, fstype, storage.mountPoint, err);
      }
    }
  }

  /** stat()s every mount below the shared directory so virtiofsd can drop stale inodes. */
  async removeStaleVirtiofsShareMounts(): Promise<void> {
    const prefix = `${this.sharedDir}/`;
    for (const mount of await readMountinfo()) {
      if (!mount.mountPoint.startsWith(prefix)) continue;
      await stat(mount.mountPoint).catch((err: unknown) =>
        this.log.debug("stat of a share mount failed", { mountPoint: mount.mountPoint, error: err }),
      );
    }
  }

  volumeStats(path: string): Promise<VolumeStats> {
    return volumeStats(path);
  }

  resizeVolume(path: string, bytes: bigint, signal?: AbortSignal): Promise<void> {
    return resizeVolume(path, bytes, {
      mounter: this.mounter,
      sysfsRoot: this.sysfsRoot,
      log: this.log,
      signal,
    });
  }

  private async addOne(
    storage: StorageSpec,
    owner: StorageOwner,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const handler = storageHandlers[storage.driver];
    if (!handler) throw this.unknownDriver(storage.driver);
    checkMountPoint(storage);
    if (storage.driver === "ephemeral" || storage.driver === "local") parseFsgid(storage);
    const mountPoint = storage.mountPoint;
    return this.locks.run(mountPoint, async () => {
      const existing = this.held.get(mountPoint);
      if (existing) {
        existing.holders.set(owner, (existing.holders.get(owner) ?? 0) + 1);
        this.log.debug("storage already set up; holding it once more", { mountPoint, owner });
        return existing.result.path;
      }
      const ctx: StorageContext = {
        owner,
        runDir: this.runDir,
        sysfsRoot: this.sysfsRoot,
        mounter: this.mounter,
        devices: this.devices,
        watcher: this.watcher,
        log: this.log.child({ driver: storage.driver, mountPoint }),
        signal,
      };
      let result: StorageResult;
      try {
        result = await handler.add(storage, ctx);
      } catch (err) {
        throw describeFailure(storage, err);
      }
      this.held.set(mountPoint, {
        driver: storage.driver,
        result,
        shared: storage.shared,
        holders: new Map([[owner, 1]]),
      });
      return result.path;
    });
  }

  private async releaseOne(mountPoint: string, owner: StorageOwner): Promise<void> {
    await this.locks.run(mountPoint, async () => {
      const held = this.held.get(mountPoint);
      const count = held?.holders.get(owner);
      if (!held || !count) return;
      if (count > 1) held.holders.set(owner, count - 1);
      else held.holders.delete(owner);
      if (held.holders.size > 0) return;
      if (held.shared || held.result.sandboxLifetime) {
        this.log.debug("keeping storage for the sandbox's lifetime", { mountPoint, driver: held.driver });
        return;
      }
      this.held.delete(mountPoint);
      this.log.info("last holder released storage; tearing it down", { mountPoint, driver: held.driver });
      await held.result.cleanup();
    });
  }

  private unknownDriver(driver: string): DomainError {
    const supported = this.drivers().join(", ");
    if ((UNSUPPORTED_DRIVERS as readonly string[]).includes(driver)) {
      return new UnsupportedError(
        `storage driver ${JSON.stringify(driver)} is not supported by this agent (it has: ${supported})`,
      );
    }
    return new InvalidInputError(
      `unknown storage driver ${JSON.stringify(driver)}; this agent supports: ${supported}`,
    );
  }
}

/** Errors name the driver and what it was given, unless the driver already said so. */
function describeFailure(storage: StorageSpec, err: unknown): DomainError {
  const said = `storage driver "${storage.driver}"`;
  return withContext(err, (message) =>
    message.startsWith(said)
      ? message
      : `${said} (source ${JSON.stringify(storage.source)}, mount point ${storage.mountPoint}): ${message}`,
  );
}
