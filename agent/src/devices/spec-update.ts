// Patching the OCI spec with where hot-plugged devices really are in the guest: the runtime writes
// the host's major:minor into Linux.Devices; the guest kernel numbers them its own way. Device
// cgroup rules written for the host numbers are rewritten too, and each device gets an allow rule.
import { create } from "@bufbuild/protobuf";
import { LinuxDeviceCgroupSchema, LinuxResourcesSchema, type Spec } from "../../gen/oci_pb.js";
import { InvalidInputError } from "../core/domain-error.js";

export interface GuestDevice {
  /** "b" or "c". */
  type: string;
  major: number;
  minor: number;
}

/** Applies `updates` (container path -> guest device) to `spec` in place. */
export function updateSpecDevices(spec: Spec, updates: ReadonlyMap<string, GuestDevice>): void {
  if (updates.size === 0) return;
  const linux = spec.Linux;
  if (!linux) throw new InvalidInputError("the OCI spec has no Linux section to put devices in");
  const pending = new Map(updates);
  // (type, host major, host minor) -> guest numbers, for the cgroup rules below.
  const renumbered = new Map<string, GuestDevice>();
  // Host numbers shared by devices that became different guest devices: rules on them are ambiguous.
  const ambiguous = new Set<string>();
  for (const dev of linux.Devices) {
    const update = pending.get(dev.Path);
    if (!update) continue;
    pending.delete(dev.Path);
    const key = `${dev.Type || update.type}:${dev.Major}:${dev.Minor}`;
    const earlier = renumbered.get(key);
    if (earlier && (earlier.major !== update.major || earlier.minor !== update.minor)) ambiguous.add(key);
    renumbered.set(key, update);
    dev.Major = BigInt(update.major);
    dev.Minor = BigInt(update.minor);
    if (!dev.Type) dev.Type = update.type;
  }
  if (pending.size > 0) {
    throw new InvalidInputError(
      `devices missing from the OCI spec's Linux.Devices: ${[...pending.keys()].join(", ")}`,
    );
  }
  linux.Resources ??= create(LinuxResourcesSchema);
  for (const rule of linux.Resources.Devices) {
    const key = `${rule.Type}:${rule.Major}:${rule.Minor}`;
    const update = renumbered.get(key);
    if (!update) continue;
    if (ambiguous.has(key)) {
      throw new InvalidInputError(
        `a device cgroup rule names host device ${key}, which two devices of the spec share; cannot tell which guest device it means`,
      );
    }
    rule.Major = BigInt(update.major);
    rule.Minor = BigInt(update.minor);
  }
  for (const update of updates.values()) {
    linux.Resources.Devices.push(
      create(LinuxDeviceCgroupSchema, {
        Allow: true,
        Type: update.type,
        Major: BigInt(update.major),
        Minor: BigInt(update.minor),
        Access: "rwm",
      }),
    );
  }
}
