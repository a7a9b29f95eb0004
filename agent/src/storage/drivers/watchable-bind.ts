// watchable-bind: a small host-shared volume (ConfigMap, Secret) mirrored into a guest tmpfs and
// kept current by polling, because virtio-fs delivers no inotify events (see ../watcher.ts).
// Only containers hold these; for the sandbox it is a no-op, as upstream.

import { checkMountPoint } from "../common.js";
import { SANDBOX_OWNER, type StorageContext, type StorageResult, type StorageSpec } from "../handler.js";

export const driverTypes = ["watchable-bind"] as const;

export async function add(storage: StorageSpec, ctx: StorageContext): Promise<StorageResult> {
  checkMountPoint(storage);
  if (ctx.owner === SANDBOX_OWNER) return { path: undefined, cleanup: async () => {} };
  await ctx.watcher.add(storage.source, storage.mountPoint);
  return { path: undefined, cleanup: () => ctx.watcher.remove(storage.mountPoint) };
}
