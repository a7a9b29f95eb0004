import { describe, expect, it } from "vitest";
import {
  parseVerityParams,
  runtimeRootParams,
  type VerityParams,
  verityParams,
} from "../../../../builder/src/formats/kernel-cmdline.js";

const verity: VerityParams = {
  rootHash: "ab".repeat(32),
  salt: "cd".repeat(32),
  dataBlocks: 46080,
  dataBlockSize: 4096,
  hashBlockSize: 4096,
  hashAlgorithm: "sha256",
};

describe("the runtime's root parameters", () => {
  it("puts an ext4 NVDIMM root with DAX exactly as the runtime does", () => {
    expect(runtimeRootParams("ext4", "pmem", { dax: true })).toBe(
      "root=/dev/pmem0p1 rootflags=dax,data=ordered,errors=remount-ro ro rootfstype=ext4",
    );
  });

  it("puts a virtio-blk root without DAX, for ext4 and erofs", () => {
    expect(runtimeRootParams("ext4", "blk", { dax: false })).toBe(
      "root=/dev/vda1 rootflags=data=ordered,errors=remount-ro ro rootfstype=ext4",
    );
    expect(runtimeRootParams("erofs", "blk", { dax: false })).toBe(
      "root=/dev/vda1 rootflags=ro rootfstype=erofs",
    );
  });

  it("turns kernel_verity_params into the dm-mod.create table and a root on /dev/dm-0", () => {
    const line = runtimeRootParams("ext4", "blk", { dax: false, verity });
    expect(line).toBe(
      `dm-mod.create="dm-verity,,,ro,0 368640 verity 1 /dev/vda1 /dev/vda2 4096 4096 46080 0 sha256 ${verity.rootHash} ${verity.salt}" root=/dev/dm-0 rootflags=data=ordered,errors=remount-ro ro rootfstype=ext4`,
    );
    // On an NVDIMM the table names the pmem partitions.
    expect(runtimeRootParams("erofs", "pmem", { dax: false, verity })).toMatch(
      / verity 1 \/dev\/pmem0p1 \/dev\/pmem0p2 .* root=\/dev\/dm-0 rootflags=ro rootfstype=erofs$/,
    );
  });

  it("refuses DAX on virtio-blk, as the runtime does", () => {
    expect(() => runtimeRootParams("ext4", "blk", { dax: true })).toThrow(/virtio-blk does not support DAX/);
  });
});

describe("kernel_verity_params", () => {
  it("reads the one-line file the image builder writes", () => {
    expect(parseVerityParams(`${verityParams(verity)}\n`)).toEqual(verity);
  });

  it("names the field that is missing or wrong", () => {
    const line = verityParams(verity);
    expect(() => parseVerityParams(line.replace(/,salt=[^,]+/, ""))).toThrow(/salt is missing/);
    expect(() => parseVerityParams(line.replace("data_blocks=46080", "data_blocks=0"))).toThrow(
      /data_blocks must be a positive integer/,
    );
    expect(() => parseVerityParams(line.replace("hash_block_size=4096", "hash_block_size=1000"))).toThrow(
      /hash_block_size must be a multiple of 512/,
    );
    expect(() => parseVerityParams(line.replace(/root_hash=ab/, "root_hash=zz"))).toThrow(
      /root_hash must be hexadecimal/,
    );
    expect(() => parseVerityParams("root_hash")).toThrow(/not key=value/);
  });
});
