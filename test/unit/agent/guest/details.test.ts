import { existsSync, readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import {
  describeAgent,
  memBlockSizeBytes,
  memHotplugProbeSupported,
} from "../../../../agent/src/guest/details.js";
import { type FakeTree, fakeTree } from "./fake-tree.js";

let tree: FakeTree | undefined;
afterEach(() => tree?.remove());

describe("memBlockSizeBytes", () => {
  it("reads this machine's block size as hex", async () => {
    const text = readFileSync("/sys/devices/system/memory/block_size_bytes", "utf8").trim();
    expect(await memBlockSizeBytes("/sys")).toBe(BigInt(`0x${text}`));
  });

  it("is 0 without memory hotplug (no block_size_bytes), as upstream", async () => {
    tree = fakeTree();
    tree.write({ "devices/system": null });
    expect(await memBlockSizeBytes(tree.root)).toBe(0n);
  });

  it("parses with or without 0x and refuses garbage naming the file", async () => {
    tree = fakeTree();
    tree.write({ "devices/system/memory/block_size_bytes": "0x10000000\n" });
    expect(await memBlockSizeBytes(tree.root)).toBe(0x10000000n);
    tree.write({ "devices/system/memory/block_size_bytes": "8000000\n" });
    expect(await memBlockSizeBytes(tree.root)).toBe(0x8000000n);
    tree.write({ "devices/system/memory/block_size_bytes": "lots\n" });
    await expect(memBlockSizeBytes(tree.root)).rejects.toMatchObject({
      kind: "runtime-failure",
      message: expect.stringContaining('block_size_bytes holds "lots", not a hex number'),
    });
  });
});

describe("memHotplugProbeSupported", () => {
  it("matches whether memory/probe exists, here and in a fake tree", async () => {
    expect(await memHotplugProbeSupported("/sys")).toBe(existsSync("/sys/devices/system/memory/probe"));
    tree = fakeTree();
    tree.write({ "devices/system/memory/probe": "" });
    expect(await memHotplugProbeSupported(tree.root)).toBe(true);
  });
});

describe("describeAgent", () => {
  it("reports init_daemon only for pid 1, copies the handler lists, and claims seccomp via the OCI runtime", () => {
    const d = describeAgent({
      version: "1.2.3",
      pid: 1,
      deviceHandlers: [],
      storageHandlers: ["blk", "local"],
    });
    expect(d).toEqual({
      version: "1.2.3",
      initDaemon: true,
      deviceHandlers: [],
      storageHandlers: ["blk", "local"],
      supportsSeccomp: true,
      extraFeatures: ["agent-policy", "seccomp"],
    });
    expect(describeAgent({ version: "x", pid: 42, deviceHandlers: [], storageHandlers: [] }).initDaemon).toBe(
      false,
    );
  });
});
