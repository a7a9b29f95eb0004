// The storage driver registry: Storage.driver -> handler, one file per driver (upstream's
// STORAGE_HANDLERS). Adding a driver means one file and one line here.
import type { StorageHandler } from "../handler.js";
import * as ninep from "./9p.js";
import * as blk from "./blk.js";
import * as ephemeral from "./ephemeral.js";
import * as local from "./local.js";
import * as mmioblk from "./mmioblk.js";
import * as nvdimm from "./nvdimm.js";
import * as overlayfs from "./overlayfs.js";
import * as scsi from "./scsi.js";
import * as virtioFs from "./virtio-fs.js";
import * as watchableBind from "./watchable-bind.js";

const HANDLERS: readonly StorageHandler[] = [
  virtioFs,
  ninep,
  blk,
  mmioblk,
  scsi,
  nvdimm,
  ephemeral,
  local,
  overlayfs,
  watchableBind,
];

export const storageHandlers: Readonly<Record<string, StorageHandler>> = Object.fromEntries(
  HANDLERS.flatMap((handler) => handler.driverTypes.map((type) => [type, handler])),
);

/** Drivers upstream has that this agent does not (confidential guest pull, EROFS layers, s390x). */
export const UNSUPPORTED_DRIVERS = ["image_guest_pull", "erofs.multi-layer", "blk-ccw"] as const;
