// The computed ext4 size against the real mke2fs: the tree must fit, without much waste.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { alignUp, dataBlocksOf, planExt4 } from "../../../../builder/src/formats/ext4-size.js";
import { MKE2FS_CONF } from "../../../../builder/src/tools/mkfs-ext4.js";
import { walkTree } from "../../../../builder/src/util/tree.js";

function makeTree(dir: string): void {
  for (let d = 0; d < 40; d++) {
    mkdirSync(join(dir, `dir${d}`, "sub"), { recursive: true });
    for (let f = 0; f < 60; f++) {
      writeFileSync(
        join(dir, `dir${d}`, `file-with-a-longer-name-${f}`),
        Buffer.alloc((f * 1777) % 40000, 1),
      );
    }
    symlinkSync(
      `../dir${d}/file-with-a-longer-name-1/${"x".repeat(70)}`,
      join(dir, `dir${d}`, "sub", "long"),
    );
    symlinkSync("short", join(dir, `dir${d}`, "sub", "short"));
  }
  writeFileSync(join(dir, "big"), Buffer.alloc(30 * 1024 * 1024, 7));
}

describe("ext4 size computation", () => {
  it("counts blocks for content, directories and long symlinks", () => {
    const { blocks, inodes } = dataBlocksOf([
      { path: "", type: "dir", perm: 0o755, uid: 0, gid: 0, size: 0 },
      { path: "a", type: "file", perm: 0o644, uid: 0, gid: 0, size: 4097 },
      { path: "l", type: "symlink", perm: 0o777, uid: 0, gid: 0, size: 0, link: "y".repeat(60) },
      { path: "s", type: "symlink", perm: 0o777, uid: 0, gid: 0, size: 0, link: "short" },
      { path: "h", type: "hardlink", perm: 0o644, uid: 0, gid: 0, size: 0, link: "a" },
    ]);
    expect(inodes).toBe(3); // the hard link shares an inode
    expect(blocks).toBe(2 + 1 + 1 + 4); // content, long link, root directory, lost+found
  });

  it("gives a size mke2fs -d fills without running out and without much waste", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ext4size-"));
    const src = join(dir, "tree");
    mkdirSync(src);
    makeTree(src);
    const tree = await walkTree(src);
    const plan = planExt4(tree.entries);
    const conf = join(dir, "mke2fs.conf");
    writeFileSync(conf, MKE2FS_CONF);
    const img = join(dir, "fs.img");
    execFileSync(
      "mkfs.ext4",
      [
        "-q",
        "-F",
        "-b",
        "4096",
        "-N",
        String(plan.inodes),
        "-m",
        "3",
        "-J",
        "size=4",
        "-O",
        "^resize_inode",
        "-d",
        src,
        img,
        `${plan.bytes / 1024}k`,
      ],
      { env: { ...process.env, MKE2FS_CONFIG: conf } },
    );
    execFileSync("e2fsck", ["-fn", img], { stdio: "pipe" });
    const dump = execFileSync("dumpe2fs", ["-h", img], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const count = Number(/Block count:\s+(\d+)/.exec(dump)![1]);
    const free = Number(/Free blocks:\s+(\d+)/.exec(dump)![1]);
    expect(free / count).toBeLessThan(0.15);
    expect(free / count).toBeGreaterThan(0.03); // at least the reserved blocks stay free
  });

  it("aligns sizes up to whole multiples", () => {
    expect(alignUp(1, 2)).toBe(2 * 1024 * 1024);
    expect(alignUp(2 * 1024 * 1024, 2)).toBe(2 * 1024 * 1024);
    expect(alignUp(129 * 1024 * 1024, 128)).toBe(256 * 1024 * 1024);
  });
});
