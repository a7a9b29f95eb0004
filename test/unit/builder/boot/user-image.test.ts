import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { describeUserImage } from "../../../../builder/src/boot/user-image.js";

const dir = mkdtempSync(path.join(tmpdir(), "user-image-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const params = `root_hash=${"ab".repeat(32)},salt=${"cd".repeat(32)},data_blocks=10,data_block_size=4096,hash_block_size=4096`;

function image(name: string, manifest?: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, "");
  if (manifest !== undefined) writeFileSync(`${file}.manifest.json`, JSON.stringify(manifest));
  return file;
}

describe("an image given to kata-build vm", () => {
  it("is described by the manifest kata-build image wrote beside it", async () => {
    const file = image("a.img", { inputs: { fs: "erofs", dax: false }, verity: { params } });
    expect(await describeUserImage(file, {})).toEqual({
      path: file,
      fs: "erofs",
      dax: false,
      verity: expect.objectContaining({ dataBlocks: 10, rootHash: "ab".repeat(32) }),
    });
  });

  it("takes what the user says over the manifest, and the verity line from a file", async () => {
    const file = image("b.img", { inputs: { fs: "ext4", dax: false } });
    const line = path.join(dir, "b.root_hash.txt");
    writeFileSync(line, `${params}\n`);
    const described = await describeUserImage(file, { dax: true, verityParams: line });
    expect(described).toMatchObject({ fs: "ext4", dax: true, verity: { dataBlockSize: 4096 } });
  });

  it("is a plain ext4 image without a manifest or flags", async () => {
    expect(await describeUserImage(image("c.img"), {})).toEqual({
      path: path.join(dir, "c.img"),
      fs: "ext4",
      dax: false,
    });
  });

  it("refuses unusable verity parameters and a missing image, saying what is wrong", async () => {
    await expect(describeUserImage(image("d.img"), { verityParams: "root_hash=zz" })).rejects.toThrow(
      /kernel_verity_params are not usable: root_hash must be hexadecimal/,
    );
    await expect(describeUserImage(path.join(dir, "none.img"), {})).rejects.toThrow(/no image at/);
  });
});
