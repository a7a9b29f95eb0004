// kata-build image on the shared Debian root: checked with e2fsck, fsck.erofs, sfdisk and
// veritysetup, built twice for reproducibility, and interrupted half-way.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodePfnInfo } from "../../../builder/src/formats/nvdimm.js";
import { buildImage, type ImageConfig } from "../../../builder/src/pipelines/image.js";
import { Progress } from "../../../builder/src/util/progress.js";
import { ensureBuilderBundle } from "../../helpers/builder-agent.js";
import { type DebianRootfs, debianRootfs, EPOCH } from "../../helpers/builder-debian.js";

let rootfs: DebianRootfs;
const quiet = new Progress({ quiet: true });
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");
const tmp = () => mkdtempSync(join(tmpdir(), "kb-image-"));

function config(over: Partial<ImageConfig>): ImageConfig {
  return {
    rootfs: rootfs.root,
    out: tmp(),
    name: "kata.img",
    fs: "ext4",
    dax: false,
    verity: false,
    alignMiB: 2,
    freeMiB: 0,
    epoch: EPOCH,
    ...over,
  };
}

function partitions(img: string): Array<{ start: number; size: number; type: string }> {
  return JSON.parse(execFileSync("sfdisk", ["--json", img], { encoding: "utf8" })).partitiontable.partitions;
}

function extract(img: string, startSector: number, sectors: number, dest: string): void {
  execFileSync("dd", [
    `if=${img}`,
    `of=${dest}`,
    "bs=512",
    `skip=${startSector}`,
    `count=${sectors}`,
    "status=none",
  ]);
}

beforeAll(async () => {
  rootfs = await debianRootfs("systemd");
}, 15 * 60_000);

describe("kata-build image", () => {
  it("makes an ext4 disk from 1 MiB that e2fsck accepts, sized from the content", async () => {
    const c = config({});
    const result = await buildImage(c, quiet);
    const img = join(c.out, c.name);
    const [p1, ...rest] = partitions(img);
    expect(rest).toEqual([]);
    expect(p1!.start).toBe(2048);
    expect(p1!.type).toBe("83");
    const fs = join(c.out, "p1");
    extract(img, p1!.start, p1!.size, fs);
    execFileSync("e2fsck", ["-fn", fs], { stdio: "pipe" });
    // The agent is inside, with its owner and the fixed time.
    const stat = execFileSync("debugfs", ["-R", "stat /usr/lib/kata-agent/kata-agent.mjs", fs], {
      encoding: "utf8",
      stderr: "pipe",
    } as never) as unknown as string;
    expect(stat).toMatch(/ctime: 0x6553f100/);
    // Computed, not probed: the filesystem is not much larger than its content.
    const dump = execFileSync("dumpe2fs", ["-h", fs], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const count = Number(/Block count:\s+(\d+)/.exec(dump)![1]);
    const free = Number(/Free blocks:\s+(\d+)/.exec(dump)![1]);
    expect(free / count).toBeLessThan(0.15);
    // ext4 as the builder's own mke2fs.conf defines it, not mke2fs's bare built-in defaults.
    const features = /Filesystem features:\s+(.*)/.exec(dump)![1]!.split(/\s+/);
    for (const f of ["has_journal", "extent", "flex_bg", "metadata_csum", "64bit", "dir_nlink"]) {
      expect(features).toContain(f);
    }
    expect(features).not.toContain("orphan_file");
    expect(result.cmdline).toBe("root=/dev/vda1 rootfstype=ext4 rootflags=data=ordered,errors=remount-ro ro");
    const imageBytes = readFileSync(img).length;
    expect(imageBytes % (2 * 1024 * 1024)).toBe(0);
    expect(imageBytes).toBeLessThanOrEqual(256 * 1024 * 1024);
  }, 180_000);

  it("is bit-identical when built twice from the same tree (and from its tarball)", async () => {
    const a = config({});
    const b = config({});
    await buildImage(a, quiet);
    await buildImage(b, quiet);
    expect(sha(join(a.out, a.name))).toBe(sha(join(b.out, b.name)));
    const fromTar = config({ rootfs: rootfs.tar, seed: "fixed" });
    const fromTar2 = config({ rootfs: rootfs.tar, seed: "fixed" });
    await buildImage(fromTar, quiet);
    await buildImage(fromTar2, quiet);
    expect(sha(join(fromTar.out, fromTar.name))).toBe(sha(join(fromTar2.out, fromTar2.name)));
  }, 180_000);

  it("adds dm-verity: veritysetup verify accepts the printed root hash, and the cmdline opens it", async () => {
    const c = config({ verity: true });
    const result = await buildImage(c, quiet);
    const img = join(c.out, c.name);
    const [p1, p2] = partitions(img);
    expect(p1!.start).toBe(2048);
    expect(p2!.start).toBe(p1!.start + p1!.size);
    extract(img, p1!.start, p1!.size, join(c.out, "data"));
    extract(img, p2!.start, p2!.size, join(c.out, "hash"));
    const v = result.verity!;
    execFileSync("veritysetup", [
      "verify",
      "--no-superblock",
      `--salt=${v.salt}`,
      join(c.out, "data"),
      join(c.out, "hash"),
      v.rootHash,
    ]);
    // A flipped byte in the data is caught.
    const data = readFileSync(join(c.out, "data"));
    data[5 * 4096 + 17] = data[5 * 4096 + 17]! ^ 0xff;
    writeFileSync(join(c.out, "bad"), data);
    expect(() =>
      execFileSync(
        "veritysetup",
        [
          "verify",
          "--no-superblock",
          `--salt=${v.salt}`,
          join(c.out, "bad"),
          join(c.out, "hash"),
          v.rootHash,
        ],
        { stdio: "pipe" },
      ),
    ).toThrow();
    const blocks = Number(/data_blocks=(\d+)/.exec(v.params)![1]);
    expect(result.cmdline).toBe(
      `dm-mod.create="dm-verity,,,ro,0 ${blocks * 8} verity 1 /dev/vda1 /dev/vda2 4096 4096 ${blocks} 0 sha256 ${v.rootHash} ${v.salt}" root=/dev/dm-0 rootfstype=ext4 rootflags=data=ordered,errors=remount-ro ro`,
    );
    const manifest = JSON.parse(readFileSync(join(c.out, "kata.img.manifest.json"), "utf8"));
    expect(manifest.verity.rootHash).toBe(v.rootHash);
    expect(manifest.kernelCmdline).toBe(result.cmdline);
    expect(readFileSync(join(c.out, "kata.img.root_hash.txt"), "utf8")).toBe(`${v.params}\n`);
  }, 180_000);

  it("makes an erofs disk that fsck.erofs accepts, reproducibly", async () => {
    const a = config({ fs: "erofs" });
    const b = config({ fs: "erofs" });
    const result = await buildImage(a, quiet);
    await buildImage(b, quiet);
    const img = join(a.out, a.name);
    expect(sha(img)).toBe(sha(join(b.out, b.name)));
    const [p1] = partitions(img);
    extract(img, p1!.start, p1!.size, join(a.out, "p1"));
    execFileSync("fsck.erofs", [join(a.out, "p1")], { stdio: "pipe" });
    expect(result.cmdline).toBe("root=/dev/vda1 rootfstype=erofs ro");
  }, 180_000);

  it("prepends the NVDIMM/DAX header: MBR for the whole file, PFN info, inner MBR at 2 MiB", async () => {
    const c = config({ dax: true });
    const result = await buildImage(c, quiet);
    const img = join(c.out, c.name);
    const outer = partitions(img);
    expect(outer[0]!.start).toBe(3 * 2048);
    const fd = openSync(img, "r");
    const head = Buffer.alloc(2 * 1024 * 1024 + 512);
    readSync(fd, head, 0, head.length, 0);
    closeSync(fd);
    expect(decodePfnInfo(head.subarray(4096, 8192))).toMatchObject({ dataOffset: 2097152, align: 2097152 });
    writeFileSync(join(c.out, "inner"), head.subarray(2 * 1024 * 1024));
    const inner = JSON.parse(execFileSync("sfdisk", ["--json", join(c.out, "inner")], { encoding: "utf8" }))
      .partitiontable.partitions;
    expect(inner[0].start).toBe(2048);
    expect(result.cmdline).toContain("root=/dev/pmem0p1");
    expect(result.cmdline).toContain("rootflags=dax,data=ordered");
  }, 180_000);

  it("leaves nothing under the final name when interrupted half-way", async () => {
    const cli = ensureBuilderBundle();
    const out = tmp();
    const child = spawn("node", [cli, "image", "--rootfs", rootfs.root, "--out", out, "--name", "x.img"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let log = "";
    await new Promise<void>((resolve) => {
      child.stderr.on("data", (d: Buffer) => {
        log += d.toString();
        if (log.includes("==> Make ext4 filesystem")) resolve();
      });
    });
    child.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).not.toBe(0);
    expect(existsSync(join(out, "x.img"))).toBe(false);
    expect(readdirSync(out)).toEqual([]);
    // The staging directory beside the output was removed too.
    const parent = join(out, "..");
    const base = out.split("/").pop();
    expect(readdirSync(parent).filter((n) => n.startsWith(`.${base}.staging-`))).toEqual([]);
  }, 180_000);
});
