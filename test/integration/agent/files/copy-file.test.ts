// CopyFile through the real agent over ttrpc: the runtime's happy paths (chunked files, empty
// files, directories, symlinks, modes and owners) and the attacks a container that can write in
// the shared directory could try. After every refusal the test checks the filesystem: nothing may
// appear or change outside the shared directory.
import { execFileSync } from "node:child_process";
import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CopyFileRequest } from "../../../../agent/gen/agent_pb.js";
import { Code } from "../../../../agent/src/client/index.js";
import { tempName } from "../../../../agent/src/files/file-service.js";
import { type RunningAgent, startAgent } from "../../../helpers/agent.js";

const MiB = 1024 * 1024;
let a: RunningAgent;
let root: string;
let outside: string;

beforeAll(async () => {
  a = await startAgent();
  root = join(a.dir, "run", "shared", "containers");
  outside = join(a.dir, "outside");
  mkdirSync(outside);
  writeFileSync(join(outside, "secret"), "original");
});
afterAll(async () => {
  await a?.stop();
});

type Fields = Partial<Omit<CopyFileRequest, "$typeName">>;

function copy(fields: Fields) {
  return a.agent.copyFile({
    fileSize: 0n,
    fileMode: 0o100644,
    dirMode: 0o755,
    uid: -1,
    gid: -1,
    offset: 0n,
    ...fields,
  });
}

/** The code and message of a refused call. */
async function refusal(fields: Fields): Promise<{ code: number; message: string }> {
  try {
    await copy(fields);
  } catch (err) {
    const { code, message } = err as { code: number; message: string };
    return { code, message };
  }
  throw new Error(`CopyFile to ${fields.path} was not refused`);
}

function outsideUntouched() {
  expect(readdirSync(outside).sort()).toEqual(["secret"]);
  expect(readFileSync(join(outside, "secret"), "utf8")).toBe("original");
  expect(statSync(join(outside, "secret")).uid).toBe(0);
}

const bytes = (n: number, seed: number) => Buffer.alloc(n, seed);

describe("CopyFile: what the runtime sends", () => {
  it("assembles a 2 MiB file from 1 MiB chunks and renames it into place at file_size", async () => {
    const path = join(root, "c1", "volumes", "big.bin");
    const content = Buffer.concat([bytes(MiB, 1), bytes(MiB, 2)]);
    const base = {
      path,
      fileSize: BigInt(2 * MiB),
      fileMode: 0o100640,
      dirMode: 0o750,
      uid: 1000,
      gid: 2000,
    };
    await copy({ ...base, offset: 0n, data: content.subarray(0, MiB) });
    expect(existsSync(path)).toBe(false);
    const temp = join(root, "c1", "volumes", tempName("big.bin"));
    expect(statSync(temp).size).toBe(MiB);
    await copy({ ...base, offset: BigInt(MiB), data: content.subarray(MiB) });
    expect(readFileSync(path).equals(content)).toBe(true);
    const st = statSync(path);
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o640, 1000, 2000]);
    expect(existsSync(temp)).toBe(false);
    // New parents get dir_mode; the immediate parent takes the file's owner.
    const parent = statSync(join(root, "c1", "volumes"));
    expect([parent.mode & 0o777, parent.uid, parent.gid]).toEqual([0o750, 1000, 2000]);
    expect(statSync(join(root, "c1")).mode & 0o777).toBe(0o750);
  });

  it("creates an empty file with one request", async () => {
    const path = join(root, "c1", "empty");
    await copy({ path, fileSize: 0n, fileMode: 0o100600 });
    expect(statSync(path).size).toBe(0);
    expect(statSync(path).mode & 0o7777).toBe(0o600);
  });

  it("creates a directory with its mode and owner, keeping one that exists", async () => {
    const path = join(root, "c1", "dir");
    await copy({ path, fileMode: 0o040711, uid: 7, gid: 8 });
    writeFileSync(join(path, "keep"), "x");
    await copy({ path, fileMode: 0o040750, uid: 7, gid: 8 });
    const st = lstatSync(path);
    expect([st.isDirectory(), st.mode & 0o7777, st.uid, st.gid]).toEqual([true, 0o750, 7, 8]);
    expect(readFileSync(join(path, "keep"), "utf8")).toBe("x");
  });

  it("creates symlinks (Kubernetes' ..data layout) owned by uid:gid, never touching their target", async () => {
    const dir = join(root, "c1", "configmap");
    await copy({ path: join(dir, "..2026_01_01", "key"), fileSize: 5n, data: Buffer.from("value") });
    await copy({
      path: join(dir, "..data"),
      fileMode: 0o120777,
      data: Buffer.from("..2026_01_01"),
      uid: 11,
      gid: 12,
    });
    await copy({ path: join(dir, "key"), fileMode: 0o120777, data: Buffer.from("..data/key") });
    expect(readlinkSync(join(dir, "..data"))).toBe("..2026_01_01");
    expect(lstatSync(join(dir, "..data")).uid).toBe(11);
    expect(readFileSync(join(dir, "key"), "utf8")).toBe("value");
    // A link whose target is outside is just a link; chown applies to the link only.
    await copy({
      path: join(dir, "abs"),
      fileMode: 0o120777,
      data: Buffer.from(join(outside, "secret")),
      uid: 99,
      gid: 99,
    });
    expect(readlinkSync(join(dir, "abs"))).toBe(join(outside, "secret"));
    outsideUntouched();
  });

  it("replaces a file atomically and a directory that is in the way", async () => {
    const path = join(root, "c1", "replace");
    await copy({ path, fileSize: 3n, data: Buffer.from("one") });
    await copy({ path, fileSize: 3n, data: Buffer.from("two") });
    expect(readFileSync(path, "utf8")).toBe("two");
    const dirPath = join(root, "c1", "was-a-dir");
    mkdirSync(join(dirPath, "sub"), { recursive: true });
    writeFileSync(join(dirPath, "sub", "f"), "x");
    await copy({ path: dirPath, fileSize: 4n, data: Buffer.from("file") });
    expect(readFileSync(dirPath, "utf8")).toBe("file");
  });
});

describe("CopyFile: attacks", () => {
  it("refuses .. traversal", async () => {
    for (const path of [`${root}/../../outside/pwn`, `${root}/c1/../../../outside/pwn`, `${root}/../x`]) {
      expect(await refusal({ path, fileSize: 1n, data: Buffer.from("x") })).toMatchObject({
        code: Code.InvalidArgument,
        message: expect.stringContaining('contains a ".." component'),
      });
    }
    outsideUntouched();
  });

  it("refuses absolute paths outside the shared directory", async () => {
    const sentinel = `/tmp/kata-copy-attack-${process.pid}`;
    for (const path of [sentinel, join(a.dir, "run", "shared", "foo"), `${root}-evil/x`, "relative/x"]) {
      expect(await refusal({ path, fileSize: 1n, data: Buffer.from("x") })).toMatchObject({
        code: Code.InvalidArgument,
        message: expect.stringContaining("is outside it"),
      });
    }
    expect(existsSync(sentinel)).toBe(false);
    expect(existsSync(join(a.dir, "run", "shared", "foo"))).toBe(false);
  });

  it("refuses to write through a symlink planted inside the root that points outside", async () => {
    mkdirSync(join(root, "c2"), { recursive: true });
    symlinkSync(outside, join(root, "c2", "escape"));
    for (const fields of [
      { path: join(root, "c2", "escape", "pwn"), fileSize: 1n, data: Buffer.from("x") },
      { path: join(root, "c2", "escape", "sub", "pwn"), fileSize: 1n, data: Buffer.from("x") },
      { path: join(root, "c2", "escape", "dir"), fileMode: 0o040777 },
      { path: join(root, "c2", "escape", "link"), fileMode: 0o120777, data: Buffer.from("/") },
    ]) {
      expect(await refusal(fields)).toMatchObject({
        code: Code.InvalidArgument,
        message: expect.stringContaining("escape is a symbolic link, which is never followed"),
      });
    }
    outsideUntouched();
  });

  it("refuses a write through a symlink that CopyFile itself created", async () => {
    await copy({ path: join(root, "c2", "made-link"), fileMode: 0o120777, data: Buffer.from(outside) });
    expect(
      await refusal({ path: join(root, "c2", "made-link", "pwn"), fileSize: 1n, data: Buffer.from("x") }),
    ).toMatchObject({
      code: Code.InvalidArgument,
    });
    outsideUntouched();
  });

  it("replaces a final-component symlink instead of writing through it", async () => {
    const link = join(root, "c2", "points-out");
    symlinkSync(join(outside, "secret"), link);
    await copy({ path: link, fileSize: 3n, data: Buffer.from("new"), uid: 5, gid: 5 });
    expect(lstatSync(link).isFile()).toBe(true);
    expect(readFileSync(link, "utf8")).toBe("new");
    outsideUntouched();
  });

  it("refuses the second chunk after a directory was swapped for a symlink between chunks", async () => {
    const dir = join(root, "c3", "d");
    const base = { path: join(dir, "big"), fileSize: BigInt(2 * MiB) };
    await copy({ ...base, offset: 0n, data: bytes(MiB, 7) });
    renameSync(dir, `${dir}.orig`);
    symlinkSync(outside, dir);
    expect(await refusal({ ...base, offset: BigInt(MiB), data: bytes(MiB, 8) })).toMatchObject({
      code: Code.InvalidArgument,
      message: expect.stringContaining("is a symbolic link"),
    });
    outsideUntouched();
    // Starting over is refused just the same while the link is there.
    expect((await refusal({ ...base, offset: 0n, data: bytes(MiB, 7) })).code).toBe(Code.InvalidArgument);
    outsideUntouched();
  });

  it("refuses a partial file replaced by a symlink, a hard link or a FIFO", async () => {
    const dir = join(root, "c4");
    const name = "target";
    const temp = join(dir, tempName(name));
    const base = { path: join(dir, name), fileSize: 4n };
    const plants: [string, () => void][] = [
      ["symlink", () => symlinkSync(join(outside, "secret"), temp)],
      ["hard link", () => linkSync(join(outside, "secret"), temp)],
      ["fifo", () => execFileSync("mkfifo", [temp])],
    ];
    for (const [what, plant] of plants) {
      await copy({ ...base, offset: 0n, data: Buffer.from("ab") });
      unlinkSync(temp);
      plant();
      const { code, message } = await refusal({ ...base, offset: 2n, data: Buffer.from("cd") });
      expect([what, code]).toEqual([what, Code.InvalidArgument]);
      expect(message).toMatch(/symbolic link|hard links|not a regular file/);
      expect(existsSync(join(dir, name))).toBe(false);
      unlinkSync(temp);
    }
    outsideUntouched();
  });

  it("refuses absurd sizes and offsets", async () => {
    const path = join(root, "c5", "f");
    const cases: [Fields, number, RegExp][] = [
      [{ fileSize: -1n }, Code.InvalidArgument, /file_size -1 .* is negative/],
      [{ fileSize: 1n << 62n }, Code.InvalidArgument, /exceeds this agent's CopyFile limit/],
      [{ fileSize: 10n, offset: -1n }, Code.InvalidArgument, /offset -1 .* is negative/],
      [{ fileSize: 10n, offset: 11n }, Code.InvalidArgument, /lies beyond its file_size 10/],
      [
        { fileSize: 2n, data: Buffer.from("abc") },
        Code.InvalidArgument,
        /ends at byte 3, beyond its file_size 2/,
      ],
      [
        { fileSize: 4n, offset: 2n, data: Buffer.from("cd") },
        Code.FailedPrecondition,
        /send the first chunk \(offset 0\)/,
      ],
      [{ fileMode: 0o060600 }, Code.InvalidArgument, /another file type/],
    ];
    for (const [fields, code, text] of cases) {
      const got = await refusal({ path, ...fields });
      expect(got.code, got.message).toBe(code);
      expect(got.message).toMatch(text);
    }
    await copy({ path, fileSize: 10n, data: Buffer.from("ab") });
    expect(await refusal({ path, fileSize: 10n, offset: 5n, data: Buffer.from("x") })).toMatchObject({
      code: Code.FailedPrecondition,
      message: expect.stringContaining("leaves a gap: only 2 bytes have arrived"),
    });
    expect(existsSync(path)).toBe(false);
  });
});
