// 9p over virtio (QEMU without virtiofsd, shared_fs = virtio-9p). Upstream removed this driver in
// 3.29 although the Go runtime still sends it; it is kept here. The runtime sends options such as
// ["trans=virtio,version=9p2000.L,cache=mmap", "nodev", "msize=512000"]; trans and version get
// defaults when missing.

import { mountStorage } from "../common.js";
import type { StorageContext, StorageResult, StorageSpec } from "../handler.js";
import { optionValues } from "../mount-options.js";

export const driverTypes = ["9p"] as const;

export function ninepOptions(options: readonly string[]): string[] {
  const given = optionValues(options);
  return [
    ...(given.has("trans") ? [] : ["trans=virtio"]),
    ...(given.has("version") ? [] : ["version=9p2000.L"]),
    ...options,
  ];
}

export async function add(storage: StorageSpec, ctx: StorageContext): Promise<StorageResult> {
  return mountStorage(storage, ctx, {
    fstype: storage.fstype || "9p",
    options: ninepOptions(storage.options),
  });
}
