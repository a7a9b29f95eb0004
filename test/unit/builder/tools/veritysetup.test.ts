import { describe, expect, it } from "vitest";
import { dmModCreate, verityParams } from "../../../../builder/src/formats/kernel-cmdline.js";
import { formatArgs, parseFormatOutput } from "../../../../builder/src/tools/veritysetup.js";

const output = `VERITY header information for h.img
UUID:            \t
Hash type:       \t1
Data blocks:     \t4096
Data block size: \t4096
Hash blocks:     \t33
Hash block size: \t4096
Hash algorithm:  \tsha256
Salt:            \t${"0".repeat(63)}5
Root hash:      \t${"ab".repeat(32)}
Hash device size: \t135168 [bytes]
`;

describe("veritysetup", () => {
  it("formats without a superblock, with a given salt and uuid", () => {
    const args = formatArgs({
      data: "d",
      hash: "h",
      salt: "00",
      uuid: "u",
      dataBlockSize: 4096,
      hashBlockSize: 4096,
    });
    expect(args).toContain("--no-superblock");
    expect(args).toContain("--salt=00");
    expect(args).toContain("--uuid=u");
    expect(args.slice(-2)).toEqual(["d", "h"]);
  });

  it("reads the root hash and geometry, and writes the kernel's dm-mod.create table", () => {
    const v = parseFormatOutput(output);
    expect(v).toMatchObject({
      dataBlocks: 4096,
      dataBlockSize: 4096,
      hashBlockSize: 4096,
      hashAlgorithm: "sha256",
    });
    expect(dmModCreate(v, "/dev/vda1", "/dev/vda2")).toBe(
      `dm-mod.create="dm-verity,,,ro,0 32768 verity 1 /dev/vda1 /dev/vda2 4096 4096 4096 0 sha256 ${"ab".repeat(32)} ${"0".repeat(63)}5"`,
    );
    expect(verityParams(v)).toBe(
      `root_hash=${"ab".repeat(32)},salt=${"0".repeat(63)}5,data_blocks=4096,data_block_size=4096,hash_block_size=4096`,
    );
  });
});
