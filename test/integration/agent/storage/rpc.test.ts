// The volume RPCs through the real agent over ttrpc: GetVolumeStats against df, ResizeVolume and
// UpdateEphemeralMounts on a tmpfs the test mounts, RemoveStaleVirtiofsShareMounts, and the
// storage drivers the agent advertises in Version.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VolumeUsage_Unit } from "../../../../agent/gen/csi_pb.js";
import { AgentFeaturesSchema } from "../../../../agent/gen/ext/features_pb.js";
import { Code } from "../../../../agent/src/client/index.js";
import { native } from "../../../../agent/src/native/index.js";
import { FEATURES_FIELD } from "../../../../agent/src/rpc/health.js";
import { type RunningAgent, startAgent } from "../../../helpers/agent.js";
import { df, Kernel, mountAt } from "./kernel.js";

const dir = mkdtempSync(join(tmpdir(), "kata-storage-rpc-"));
const kernel = new Kernel(dir);
const MiB = 1024n * 1024n;
let a: RunningAgent;
let volume: string;

beforeAll(async () => {
  a = await startAgent();
  volume = join(dir, "volume");
  mkdirSync(volume);
  native().mount("kata-rpc-test", volume, "tmpfs", native().MS_NODEV, "size=2m");
});
afterAll(async () => {
  await a?.stop();
  kernel.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function refusal(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await call;
  } catch (err) {
    return err as { code: number; message: string };
  }
  throw new Error("the call was not refused");
}

describe("volume RPCs", () => {
  it("GetVolumeStats reports bytes and inodes as df does, with condition OK", async () => {
    const reply = await a.agent.getVolumeStats({ volumeGuestPath: volume });
    const [size, used, avail] = df(volume, "bytes");
    const [itotal, iused, iavail] = df(volume, "inodes");
    expect(reply.usage.map((u) => [u.unit, u.total, u.used, u.available])).toEqual([
      [VolumeUsage_Unit.BYTES, size, used, avail],
      [VolumeUsage_Unit.INODES, itotal, iused, iavail],
    ]);
    expect(reply.volumeCondition).toMatchObject({ abnormal: false, message: "OK" });
    expect(await refusal(a.agent.getVolumeStats({ volumeGuestPath: join(dir, "absent") }))).toMatchObject({
      code: Code.NotFound,
      message: expect.stringContaining("absent"),
    });
    expect((await refusal(a.agent.getVolumeStats({ volumeGuestPath: "" }))).code).toBe(Code.InvalidArgument);
  });

  it("ResizeVolume grows a tmpfs volume and refuses what it cannot do", async () => {
    await a.agent.resizeVolume({ volumeGuestPath: volume, size: 6n * MiB });
    const fs = await statfs(volume, { bigint: true });
    expect(fs.blocks * fs.bsize).toBe(6n * MiB);
    expect(mountAt(volume)?.options).toMatch(/nodev/);
    expect(await refusal(a.agent.resizeVolume({ volumeGuestPath: dir, size: 6n * MiB }))).toMatchObject({
      code: Code.FailedPrecondition,
      message: expect.stringContaining("is not a mount point"),
    });
  });

  it("UpdateEphemeralMounts remounts an ephemeral volume and refuses other drivers", async () => {
    await a.agent.updateEphemeralMounts({
      storages: [
        {
          driver: "ephemeral",
          source: "kata-rpc-test",
          fstype: "tmpfs",
          mountPoint: volume,
          options: ["remount", "nodev", "size=3M"],
        },
      ],
    });
    const fs = await statfs(volume, { bigint: true });
    expect(fs.blocks * fs.bsize).toBe(3n * MiB);
    expect(
      await refusal(
        a.agent.updateEphemeralMounts({
          storages: [{ driver: "blk", source: "/dev/vda", mountPoint: volume }],
        }),
      ),
    ).toMatchObject({
      code: Code.InvalidArgument,
      message: expect.stringContaining("only updates ephemeral storages"),
    });
  });

  it("RemoveStaleVirtiofsShareMounts answers OK", async () => {
    await expect(a.agent.removeStaleVirtiofsShareMounts({})).resolves.toBeDefined();
  });

  it("Version advertises the storage drivers", async () => {
    const reply = await a.health.version({});
    const field = reply.$unknown?.find((u) => u.no === FEATURES_FIELD);
    expect(field).toBeDefined();
    // The stored field keeps its length prefix; skip the varint.
    let offset = 0;
    while ((field!.data[offset]! & 0x80) !== 0) offset++;
    const features = fromBinary(AgentFeaturesSchema, field!.data.subarray(offset + 1));
    expect(features.storageDrivers).toEqual([
      "9p",
      "blk",
      "ephemeral",
      "local",
      "mmioblk",
      "nvdimm",
      "overlayfs",
      "scsi",
      "virtio-fs",
      "watchable-bind",
    ]);
    for (const rpc of [
      "CopyFile",
      "GetVolumeStats",
      "ResizeVolume",
      "UpdateEphemeralMounts",
      "RemoveStaleVirtiofsShareMounts",
    ]) {
      expect(features.unimplemented).not.toContain(rpc);
    }
  });
});
