// virtio-fs: the host directory shared by virtiofsd, mounted by its tag (normally "kataShared" at
// <runDir>/shared/containers). Skipped when that tag is already mounted there (an image that
// mounts the share before the agent starts). Also carries guest-side bind mounts (fstype "bind").

import { mountStorage } from "../common.js";
import type { StorageContext, StorageResult, StorageSpec } from "../handler.js";

export const driverTypes = ["virtio-fs"] as const;

/** The tag the runtime gives the sandbox-wide share. */
export const SHARED_TAG = "kataShared";

export async function add(storage: StorageSpec, ctx: StorageContext): Promise<StorageResult> {
  if (storage.source === SHARED_TAG && (await ctx.mounter.isMountPoint(storage.mountPoint))) {
    ctx.log.warn("kataShared is already mounted; using it as it is", { mountPoint: storage.mountPoint });
    return { path: storage.mountPoint, cleanup: async () => {} };
  }
  return mountStorage(storage, ctx, { fstype: storage.fstype || "virtiofs" });
}
