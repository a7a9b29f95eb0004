// The device handler registry: Device.type -> handler, one file per handler (upstream's
// DEVICE_HANDLERS). Adding a type means one file and one line here.
import type { DeviceContext, DeviceSpec } from "../context.js";
import type { BlockDevice } from "../sysfs.js";
import * as blk from "./blk.js";
import * as mmioblk from "./mmioblk.js";
import * as nvdimm from "./nvdimm.js";
import * as scsi from "./scsi.js";

export interface DeviceHandler {
  readonly deviceTypes: readonly string[];
  resolve(device: DeviceSpec, ctx: DeviceContext): Promise<BlockDevice>;
}

const HANDLERS: readonly DeviceHandler[] = [blk, mmioblk, scsi, nvdimm];

export const deviceHandlers: Readonly<Record<string, DeviceHandler>> = Object.fromEntries(
  HANDLERS.flatMap((handler) => handler.deviceTypes.map((type) => [type, handler])),
);

/** Types upstream knows that this agent does not handle (device passthrough, s390x). */
export const UNSUPPORTED_DEVICE_TYPES = [
  "vfio-pci",
  "vfio-pci-gk",
  "vfio-ap",
  "vfio-ap-cold",
  "blk-ccw",
] as const;
