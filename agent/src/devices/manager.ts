// Hot-plugged devices, for CreateContainer (before its storages are mounted and its spec written)
// and for storage drivers: find each device's node in the guest, then patch the OCI spec with its
// guest major:minor.
import type { Spec } from "../../gen/oci_pb.js";
import { InvalidInputError, UnsupportedError } from "../core/domain-error.js";
import { Logger } from "../log.js";
import type { DeviceContext, DeviceSpec } from "./context.js";
import { findVirtioBlkPci } from "./handlers/blk.js";
import { deviceHandlers, UNSUPPORTED_DEVICE_TYPES } from "./handlers/index.js";
import { findNamedBlock } from "./handlers/mmioblk.js";
import { findPciNic } from "./handlers/net.js";
import { findScsiDisk } from "./handlers/scsi.js";
import { type PciPath, parsePciPath } from "./pci-path.js";
import { type GuestDevice, updateSpecDevices } from "./spec-update.js";
import type { BlockDevice, DeviceRoots } from "./sysfs.js";

export interface DeviceManagerOptions {
  /** agent.hotplug_timeout in milliseconds. */
  hotplugTimeoutMs: number;
  /** Defaults to /sys; tests point it at a fake tree. */
  sysfsRoot?: string;
  /** Defaults to /dev. */
  devRoot?: string;
  /** Rescan the PCI bus / SCSI hosts for a late device (default true; off for an agent on a host). */
  rescanBuses?: boolean;
  /** First poll interval in ms (default 10). */
  pollMs?: number;
  log?: Logger;
}

export interface ResolvedDevice {
  containerPath: string;
  type: string;
  device: BlockDevice;
}

export class DeviceManager {
  readonly roots: DeviceRoots;
  private readonly log: Logger;

  constructor(private readonly options: DeviceManagerOptions) {
    this.roots = { sysfs: options.sysfsRoot ?? "/sys", dev: options.devRoot ?? "/dev" };
    this.log = (options.log ?? Logger.create("error", () => {})).child({ subsystem: "devices" });
  }

  /** Device.type values this agent handles. */
  deviceTypes(): string[] {
    return Object.keys(deviceHandlers).sort();
  }

  get hotplugTimeoutMs(): number {
    return this.options.hotplugTimeoutMs;
  }

  context(signal?: AbortSignal): DeviceContext {
    return {
      roots: this.roots,
      timeoutMs: this.options.hotplugTimeoutMs,
      signal,
      log: this.log,
      rescanBuses: this.options.rescanBuses ?? true,
      ...(this.options.pollMs ? { pollMs: this.options.pollMs } : {}),
    };
  }

  /**
   * Waits for every device of a CreateContainer request, then rewrites `spec` (Linux.Devices
   * major/minor for each container_path, matching device cgroup rules, one allow rule each).
   */
  async resolveDevices(
    devices: readonly DeviceSpec[],
    spec: Spec,
    signal?: AbortSignal,
  ): Promise<ResolvedDevice[]> {
    const resolved: ResolvedDevice[] = [];
    const updates = new Map<string, GuestDevice>();
    for (const device of devices) {
      const handler = this.handlerFor(device);
      const found = await handler.resolve(device, this.context(signal));
      if (updates.has(device.containerPath)) {
        throw new InvalidInputError(`two devices target ${device.containerPath} in the container`);
      }
      updates.set(device.containerPath, { type: "b", major: found.major, minor: found.minor });
      resolved.push({ containerPath: device.containerPath, type: device.type, device: found });
      this.log.info("device ready", {
        type: device.type,
        id: device.id,
        containerPath: device.containerPath,
        guestPath: found.path,
        major: found.major,
        minor: found.minor,
      });
    }
    updateSpecDevices(spec, updates);
    return resolved;
  }

  /** The virtio-blk disk at a PCI path ("02/00"). */
  async virtioBlkPci(pciPath: string | PciPath, signal?: AbortSignal): Promise<BlockDevice> {
    return findVirtioBlkPci(this.context(signal), pciPathOf(pciPath));
  }

  /** The name of the hot-plugged NIC at a PCI path, once the guest kernel has probed it. */
  async pciNic(pciPath: string | PciPath, signal?: AbortSignal): Promise<string> {
    return findPciNic(this.context(signal), pciPathOf(pciPath));
  }

  /** A block device known by its /dev name (virtio-mmio disks, pmem). */
  async namedBlock(devPath: string, kind: string, signal?: AbortSignal): Promise<BlockDevice> {
    return findNamedBlock(this.context(signal), devPath, kind);
  }

  /** The SCSI disk at "<target>:<lun>". */
  async scsiDisk(address: string, signal?: AbortSignal): Promise<BlockDevice> {
    return findScsiDisk(this.context(signal), address);
  }

  private handlerFor(device: DeviceSpec) {
    if (device.type === "") throw new InvalidInputError(`device ${JSON.stringify(device.id)} has no type`);
    if (device.id === "" && device.vmPath === "") {
      throw new InvalidInputError(`device of type ${device.type} has neither an id nor a vm_path`);
    }
    if (device.containerPath === "") {
      throw new InvalidInputError(`device ${device.id || device.vmPath} has no container_path`);
    }
    const handler = deviceHandlers[device.type];
    if (handler) return handler;
    const supported = this.deviceTypes().join(", ");
    if ((UNSUPPORTED_DEVICE_TYPES as readonly string[]).includes(device.type)) {
      throw new UnsupportedError(
        `device type ${device.type} is not supported by this agent (it handles: ${supported})`,
      );
    }
    throw new InvalidInputError(
      `unknown device type ${JSON.stringify(device.type)} (this agent handles: ${supported})`,
    );
  }
}

const pciPathOf = (path: string | PciPath): PciPath => (typeof path === "string" ? parsePciPath(path) : path);
