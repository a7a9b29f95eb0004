// kata-build image with what a root filesystem may hold besides files and directories: device
// nodes, FIFOs, sockets, hard links, extended attributes and sparse files, from a directory and
// from a tarball, with the current time (no SOURCE_DATE_EPOCH). Each image is checked with
// e2fsck -fn and read back with debugfs.
import { execFileSync } from "node:child_process";
import { chmodSync, linkSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createContext } from "../../../builder/src/context.js";
import { extractTar } from "../../../builder/src/formats/tar.js";
import { buildImage, type ImageConfig } from "../../../builder/src/pipelines/image.js";
import { makeFilesystem } from "../../../builder/src/stages/make-filesystem.js";
import { Progress } from "../../../builder/src/util/progress.js";

const quiet = new Progress({ quiet: true });
const tmp = () => mkdtempSync(join(tmpdir(), "kb-special-"));
const now = () => Math.floor(Date.now() / 1000);
/** A binary capability value (cap_setuid: its byte 0x80 is not UTF-8). */
const CAPABILITY = Buffer.from([1, 0, 0, 2, 0x80, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

function setXattr(path: string, name: string, value: Buffer): void {
  execFileSync("/usr/bin/python3", [
    "-c",
    "import os,sys; os.setxattr(sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3]))",
    path,
    name,
    value.toString("hex"),
  ]);
}

/** A small root with every kind of entry; `binaryXattr` adds the capability too. */
function makeRoot(binaryXattr: boolean): string {
  const root = join(tmp(), "root");
  for (const d of ["sbin", "usr/bin", "dev", "run", "etc", "var"])
    mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, "sbin/init"), "#!/bin/sh\n");
  writeFileSync(join(root, "usr/bin/kata-agent"), "#!/bin/sh\n");
  chmodSync(join(root, "sbin/init"), 0o755);
  execFileSync("mknod", [join(root, "dev/mem"), "c", "1", "1"]);
  execFileSync("mknod", [join(root, "dev/vda"), "b", "254", "0"]);
  execFileSync("mkfifo", [join(root, "run/fifo")]);
  writeFileSync(join(root, "etc/a"), "shared\n");
  linkSync(join(root, "etc/a"), join(root, "etc/b"));
  setXattr(join(root, "etc/a"), "user.note", Buffer.from("hello"));
  if (binaryXattr) setXattr(join(root, "usr/bin/kata-agent"), "security.capability", CAPABILITY);
  // 16 MiB with one byte written in the middle.
  execFileSync("truncate", ["-s", "16M", join(root, "var/sparse")]);
  execFileSync(
    "dd",
    [`of=${join(root, "var/sparse")}`, "bs=1", "seek=8388608", "conv=notrunc", "status=none"],
    {
      input: "X",
    },
  );
  return root;
}

function addSocket(root: string): void {
  execFileSync("/usr/bin/python3", [
    "-c",
    "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
    join(root, "run/sock"),
  ]);
}

/** The filesystem in partition 1 of `img`, as a file of its own. */
function partition1(img: string, dir: string): string {
  const [p] = JSON.parse(execFileSync("sfdisk", ["--json", img], { encoding: "utf8" })).partitiontable
    .partitions;
  const fs = join(dir, "p1.ext4");
  execFileSync("dd", [
    `if=${img}`,
    `of=${fs}`,
    "bs=512",
    `skip=${p.start}`,
    `count=${p.size}`,
    "status=none",
  ]);
  return fs;
}

function debugfs(fs: string, command: string): string {
  return execFileSync("debugfs", ["-R", command, fs], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function fsck(fs: string): void {
  // -n: read-only; a non-zero status (errors found) throws, with e2fsck's report.
  execFileSync("e2fsck", ["-fn", fs], { stdio: "pipe" });
}

/** What debugfs says of each special entry, and that its times are today's. */
function checkSpecials(fs: string, started: number, options: { socket: boolean; capability: boolean }): void {
  fsck(fs);
  const rootListing = debugfs(fs, "ls -l /");
  // The fault this replaces: entries literally named "/dev/mem" in the root directory.
  expect(rootListing).not.toMatch(/\/dev\/mem/);
  expect(debugfs(fs, "stat /dev/mem")).toMatch(
    /Type: character special[\s\S]*Device major\/minor number: 01:01/,
  );
  expect(debugfs(fs, "stat /dev/vda")).toMatch(
    /Type: block special[\s\S]*Device major\/minor number: 254:00/,
  );
  expect(debugfs(fs, "stat /run/fifo")).toMatch(/Type: FIFO/);
  if (options.socket) expect(debugfs(fs, "stat /run/sock")).toMatch(/Type: socket/);
  const a = debugfs(fs, "stat /etc/a");
  expect(a).toMatch(/Links: 2/);
  expect(debugfs(fs, "stat /etc/b").match(/Inode: (\d+)/)?.[1]).toBe(a.match(/Inode: (\d+)/)?.[1]);
  expect(debugfs(fs, "cat /etc/b")).toBe("shared\n");
  expect(debugfs(fs, "ea_get /etc/a user.note")).toMatch(/hello/);
  if (options.capability) {
    expect(debugfs(fs, "ea_list /usr/bin/kata-agent")).toMatch(
      /security\.capability \(20\) = 01 00 00 02 80 20/,
    );
  }
  const sparse = debugfs(fs, "stat /var/sparse");
  expect(sparse).toMatch(/Size: 16777216/);
  // One 4 KiB block allocated (8 sectors), not 16 MiB.
  expect(Number(sparse.match(/Blockcount: (\d+)/)?.[1])).toBeLessThanOrEqual(16);
  // Times are the build's time: not 2340, not before 1970.
  for (const path of ["/", "/etc/a", "/dev/mem", "/run/fifo", "/var/sparse"]) {
    const mtime = Number.parseInt(debugfs(fs, `stat ${path}`).match(/mtime: 0x([0-9a-f]+)/)?.[1] ?? "0", 16);
    expect(mtime).toBeGreaterThanOrEqual(started - 5);
    expect(mtime).toBeLessThanOrEqual(now() + 5);
  }
}

/** The tree as GNU tar packs it with its xattrs (pax headers). */
function tarOfRoot(root: string): string {
  const tarball = join(tmp(), "root.tar");
  execFileSync("tar", ["--xattrs", "--xattrs-include=*", "--format=posix", "-C", root, "-cf", tarball, "."]);
  return tarball;
}

function config(rootfs: string, out: string): ImageConfig {
  return {
    rootfs,
    out,
    name: "kata.img",
    fs: "ext4",
    dax: false,
    verity: false,
    alignMiB: 2,
    freeMiB: 0,
    epoch: now(),
  };
}

describe("kata-build image with special files, at the current time", () => {
  let dirRoot: string;
  beforeAll(() => {
    dirRoot = makeRoot(true);
    addSocket(dirRoot);
  });

  it("from a directory: devices, FIFO, socket, hard link, xattrs and a sparse file land as they are", async () => {
    const started = now();
    const out = tmp();
    await buildImage(config(dirRoot, out), quiet);
    checkSpecials(partition1(join(out, "kata.img"), out), started, { socket: true, capability: true });
  });

  it("from a tarball (GNU tar, pax headers with xattrs)", async () => {
    const tarball = tarOfRoot(makeRoot(false));
    const started = now();
    const out = tmp();
    await buildImage(config(tarball, out), quiet);
    checkSpecials(partition1(join(out, "kata.img"), out), started, { socket: false, capability: false });
  });

  it("from a tarball whose device nodes could not be made on disk (not root): debugfs makes them", async () => {
    const tarball = tarOfRoot(makeRoot(false));
    // Extracted without a device maker, as an unprivileged build does.
    const work = tmp();
    const tree = await extractTar(tarball, join(work, "root"));
    const started = now();
    const staging = { dir: work, path: (name: string) => join(work, name) };
    const ctx = await createContext(staging, { progress: quiet, epoch: now() });
    const made = await makeFilesystem(ctx, { tree, fs: "ext4", seed: "s", fromTar: true, freeMiB: 0 });
    checkSpecials(made.path, started, { socket: false, capability: false });
  });
});
