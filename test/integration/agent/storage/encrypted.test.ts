// Block storage with encryption_key=ephemeral on real loop devices. This host has no
// device-mapper, so the volume can never be opened here: what is checked is that the agent then
// refuses it and nothing is ever formatted or mounted in plaintext, with this host's real
// cryptsetup and kernel failing for real. The full path (format, open, mkfs, mount, write, the
// raw device showing no plaintext) runs in the guest: test/helpers/encrypted-volume.ts, whose
// request the last test sends to a real agent here, up to the refusal.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { Code } from "../../../../agent/src/client/index.js";
import { DeviceManager } from "../../../../agent/src/devices/index.js";
import { detectFilesystem } from "../../../../agent/src/storage/fs-signature.js";
import { StorageManager, type StorageSpec } from "../../../../agent/src/storage/index.js";
import { startAgent } from "../../../helpers/agent.js";
import { runEphemeralEncryptionCheck } from "../../../helpers/encrypted-volume.js";
import { busyboxRootfs } from "../../../helpers/oci.js";
import { leavingNoDeviceMapperNode, storageSpec } from "../../../helpers/storage.js";
import { Kernel, mountAt } from "./kernel.js";

const dir = mkdtempSync(join(tmpdir(), "kata-encrypted-"));
const kernel = new Kernel(dir);
afterAll(() => {
  kernel.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

let runDir: string;
beforeEach(() => {
  runDir = mkdtempSync(join(dir, "run-"));
});

function manager(sysfsRoot?: string): StorageManager {
  return new StorageManager({
    runDir,
    devices: new DeviceManager({ hotplugTimeoutMs: 2000 }),
    ...(sysfsRoot ? { sysfsRoot } : {}),
  });
}

function encrypted(device: string, mountPoint: string, driverOptions: string[]): StorageSpec {
  return storageSpec({ driver: "blk", source: device, fstype: "ext4", mountPoint, driverOptions });
}

const EPHEMERAL = ["encryption_key=ephemeral", "create_filesystem"];

describe("encryption_key=ephemeral", () => {
  it("is refused on a guest without device-mapper, and the device is left blank", async () => {
    const loop = kernel.loop("no-dm", 64);
    const mountPoint = join(runDir, "secret");
    await expect(manager().add([encrypted(loop.device, mountPoint, EPHEMERAL)], "c1")).rejects.toMatchObject({
      kind: "precondition",
      message: expect.stringMatching(
        /encryption_key=ephemeral on \/dev\/loop\d+: the guest kernel has no device-mapper \(no \/sys\/class\/misc\/device-mapper\).*refusing the volume rather than storing it in plaintext/,
      ),
    });
    expect(mountAt(mountPoint)).toBeUndefined();
    expect(await detectFilesystem(loop.device)).toBeUndefined(); // no mkfs on the raw device
  });

  it("is refused when cryptsetup cannot open it (no dm-crypt): the device holds only LUKS", async () => {
    // A sysfs saying "device-mapper" gets past the first check; the real cryptsetup then formats
    // the real loop device and really fails to open it, for this kernel has no device-mapper:
    // the path of a guest kernel without dm-crypt.
    const sysfsRoot = join(dir, "sys-with-dm");
    mkdirSync(join(sysfsRoot, "class", "misc", "device-mapper"), { recursive: true });
    const loop = kernel.loop("no-crypt", 64);
    const mountPoint = join(runDir, "secret2");
    const adding = manager(sysfsRoot).add([encrypted(loop.device, mountPoint, EPHEMERAL)], "c1");
    await expect(leavingNoDeviceMapperNode(() => adding)).rejects.toMatchObject({
      kind: "runtime-failure",
      message: expect.stringMatching(
        /cryptsetup open \(is dm-crypt in the guest kernel\?\): cryptsetup exited with status \d+: .*device-mapper.*refusing the volume rather than storing it in plaintext/,
      ),
    });
    expect(mountAt(mountPoint)).toBeUndefined();
    expect(await detectFilesystem(loop.device)).toBe("LUKS");
  });

  it("needs create_filesystem, and knows no other key", async () => {
    const loop = kernel.loop("options", 64);
    await expect(
      manager().add([encrypted(loop.device, join(runDir, "a"), ["encryption_key=ephemeral"])], "c1"),
    ).rejects.toMatchObject({
      kind: "invalid-input",
      message: expect.stringMatching(/needs create_filesystem/),
    });
    await expect(
      manager().add(
        [encrypted(loop.device, join(runDir, "b"), ["encryption_key=kbs:///a/b", "create_filesystem"])],
        "c1",
      ),
    ).rejects.toMatchObject({
      kind: "unsupported",
      message: expect.stringMatching(/the only key is encryption_key=ephemeral/),
    });
    expect(await detectFilesystem(loop.device)).toBeUndefined();
  });
});

describe("the guest's encryption check (test/helpers/encrypted-volume.ts) on this host", () => {
  it("sends a request the agent takes up to the volume, and the agent refuses it", async () => {
    const agent = await startAgent();
    try {
      const loop = kernel.loop("api", 64);
      await expect(
        runEphemeralEncryptionCheck(agent.agent, {
          rootPath: busyboxRootfs(),
          disk: loop.device,
          mountPoint: join(agent.dir, "encrypted-volume"),
        }),
      ).rejects.toMatchObject({
        code: Code.FailedPrecondition,
        message: expect.stringMatching(
          /no device-mapper.*refusing the volume rather than storing it in plaintext/,
        ),
      });
      expect(await detectFilesystem(loop.device)).toBeUndefined();
    } finally {
      await agent.stop();
    }
  });
});
