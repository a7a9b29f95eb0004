// The whole encryption_key=ephemeral path, as a step a booted guest can run (the host has no
// device-mapper, so only a guest can): a container gets a blank disk as a block volume with
// encryption_key=ephemeral + create_filesystem (the runtime's block-encrypted emptyDir) mounted
// at /data, and the same disk raw at /dev/raw. It writes a marker to /data and syncs, then reports
// what it sees: the marker read back, the filesystem /data is on, how often the marker occurs on
// the raw disk, and the raw disk's first bytes. Encrypted means: read back, on /dev/mapper/...,
// never on the raw disk, and a LUKS header there.
//
// Guest needs: cryptsetup, a kernel with DM_CRYPT, a blank virtio-blk disk of 64 MiB or more
// (LUKS2 keeps 16 MiB of header), a busybox root for the container.
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { LinuxDeviceSchema, LinuxSchema, MountSchema } from "../../agent/gen/oci_pb.js";
import type { AgentService, ServiceClient } from "../../agent/src/client/index.js";
import { bootCheckSpec } from "../../builder/src/boot/spec.js";

export interface EphemeralEncryptionOptions {
  containerId?: string;
  /** The container's root filesystem in the guest (with busybox: sh, grep, head, od, sync). */
  rootPath: string;
  /** The blank disk: its PCI path as the runtime names it ("02/00"), or a /dev path. */
  disk: string;
  /** Where the agent mounts the volume (default under /run/kata-containers/sandbox/storage). */
  mountPoint?: string;
}

export interface EphemeralEncryptionResult {
  /** The marker written to /data was read back. */
  readBack: boolean;
  /** The source of the /data mount, e.g. /dev/mapper/kata-ephemeral-... */
  mountSource: string;
  /** How many times the marker occurs on the raw disk: 0 when encrypted. */
  plaintextOnDisk: number;
  /** The raw disk starts with the LUKS magic. */
  luksHeader: boolean;
  /** Everything the container printed, for a failure message. */
  output: string;
  /** Empty when the volume was encrypted as it must be. */
  problems: string[];
}

export async function runEphemeralEncryptionCheck(
  agent: ServiceClient<typeof AgentService>,
  options: EphemeralEncryptionOptions,
): Promise<EphemeralEncryptionResult> {
  const id = options.containerId ?? "encrypted-volume";
  const mountPoint = options.mountPoint ?? "/run/kata-containers/sandbox/storage/encrypted-volume";
  const marker = `KATA-PLAINTEXT-${randomBytes(12).toString("hex")}`;
  const script = [
    `echo ${marker} > /data/marker && sync`,
    'echo "readback=$(cat /data/marker)"',
    `echo "mount=$(grep ' /data ' /proc/mounts | cut -d' ' -f1)"`,
    `echo "plaintext=$(grep -c ${marker} /dev/raw)"`,
    'echo "head=$(head -c 6 /dev/raw | od -An -tx1 | tr -d " \\n")"',
  ].join("; ");
  const spec = bootCheckSpec({ rootPath: options.rootPath, args: ["sh", "-c", script], hostname: id });
  spec.Mounts = [
    ...(spec.Mounts ?? []),
    create(MountSchema, { destination: "/data", source: mountPoint, type: "bind", options: ["rbind", "rw"] }),
  ];
  // Major and minor are the agent's to fill in from the disk it finds.
  spec.Linux = create(LinuxSchema, {
    ...spec.Linux,
    Devices: [create(LinuxDeviceSchema, { Path: "/dev/raw", Type: "b", FileMode: 0o600 })],
  });
  const byPath = options.disk.startsWith("/dev/");
  await agent.createContainer(
    {
      containerId: id,
      execId: id,
      OCI: spec,
      devices: [
        {
          id: byPath ? "" : options.disk,
          type: "blk",
          vmPath: byPath ? options.disk : "",
          containerPath: "/dev/raw",
          options: [],
        },
      ],
      storages: [
        {
          driver: "blk",
          source: options.disk,
          fstype: "ext4",
          driverOptions: ["encryption_key=ephemeral", "create_filesystem"],
          mountPoint,
          options: [],
        },
      ],
    },
    { timeoutMs: 120_000 },
  );
  let output = "";
  try {
    await agent.startContainer({ containerId: id });
    for (;;) {
      const { data } = await agent.readStdout({ containerId: id, execId: id, len: 32768 });
      if (data.length === 0) break;
      output += Buffer.from(data).toString();
    }
    await agent.waitProcess({ containerId: id, execId: id });
  } finally {
    await agent.removeContainer({ containerId: id });
  }
  const field = (name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(output)?.[1]?.trim() ?? "";
  const result = {
    readBack: field("readback") === marker,
    mountSource: field("mount"),
    plaintextOnDisk: Number(field("plaintext") || Number.NaN),
    luksHeader: field("head") === "4c554b53babe",
    output,
  };
  const problems = [
    ...(result.readBack ? [] : ["the marker was not read back from /data"]),
    ...(result.mountSource.startsWith("/dev/mapper/") || result.mountSource.startsWith("/dev/dm-")
      ? []
      : [`/data is on ${result.mountSource || "nothing"}, not on a dm-crypt mapping`]),
    ...(result.plaintextOnDisk === 0 ? [] : [`the marker is on the raw disk (${field("plaintext")})`]),
    ...(result.luksHeader ? [] : ["the raw disk has no LUKS header"]),
  ];
  return { ...result, problems };
}
