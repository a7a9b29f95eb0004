// FileService on a small tmpfs (a real kernel object): a file that cannot fit is refused before
// any of it is written, and concurrent copies to one path are serialised.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileService } from "../../../../agent/src/files/index.js";
import { native } from "../../../../agent/src/native/index.js";

const dir = mkdtempSync(join(tmpdir(), "kata-files-"));
const root = join(dir, "shared");

beforeAll(() => {
  mkdirSync(root);
  native().mount("kata-files-test", root, "tmpfs", 0, "size=1m");
});
afterAll(() => {
  native().umount(root, native().MNT_DETACH);
  rmSync(dir, { recursive: true, force: true });
});

const request = (path: string, fileSize: number, offset: number, data: Uint8Array) => ({
  path,
  fileSize: BigInt(fileSize),
  fileMode: 0o100644,
  dirMode: 0o755,
  uid: -1,
  gid: -1,
  offset: BigInt(offset),
  data,
});

describe("FileService", () => {
  it("refuses a file larger than the free space before writing anything", async () => {
    const files = new FileService({ root });
    await expect(
      files.copyFile(request(join(root, "c", "big"), 4 * 1024 * 1024, 0, Buffer.alloc(1))),
    ).rejects.toMatchObject({
      kind: "resource-exhausted",
      message: expect.stringMatching(/has \d+ bytes free; a 4194304-byte file does not fit/),
    });
    expect(readdirSync(join(root, "c"))).toEqual([]);
  });

  it("serialises concurrent chunks for one path and keeps different paths independent", async () => {
    const files = new FileService({ root });
    const chunk = 16 * 1024;
    const content = Buffer.alloc(4 * chunk);
    for (let i = 0; i < content.length; i++) content[i] = i % 251;
    await files.copyFile(request(join(root, "c", "a"), content.length, 0, content.subarray(0, chunk)));
    await Promise.all([
      ...[1, 2, 3].map((i) =>
        files.copyFile(
          request(
            join(root, "c", "a"),
            content.length,
            i * chunk,
            content.subarray(i * chunk, (i + 1) * chunk),
          ),
        ),
      ),
      files.copyFile(request(join(root, "c", "b"), 3, 0, Buffer.from("bbb"))),
    ]);
    expect(readFileSync(join(root, "c", "a")).equals(content)).toBe(true);
    expect(readFileSync(join(root, "c", "b"), "utf8")).toBe("bbb");
    expect(existsSync(join(root, "c"))).toBe(true);
  });
});
