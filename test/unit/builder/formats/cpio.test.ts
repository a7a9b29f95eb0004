import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type CpioEntry,
  encodeHeader,
  readCpio,
  TRAILER,
  writeCpio,
} from "../../../../builder/src/formats/cpio.js";

async function collect(entries: CpioEntry[], content: Record<string, string> = {}): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of writeCpio(entries, async function* (e) {
    yield Buffer.from(content[e.name] ?? "");
  }))
    parts.push(chunk);
  return Buffer.concat(parts);
}

const base = { uid: 0, gid: 0, mtime: 1700000000 };
const sample: CpioEntry[] = [
  { ...base, name: ".", kind: "dir", perm: 0o755 },
  { ...base, name: "bin", kind: "dir", perm: 0o755 },
  { ...base, name: "bin/hello", kind: "file", perm: 0o755, size: 6 },
  { ...base, name: "bin/sh", kind: "symlink", perm: 0o777, link: "hello" },
  { ...base, name: "dev", kind: "dir", perm: 0o755 },
  { ...base, name: "dev/console", kind: "char", perm: 0o600, rdevMajor: 5, rdevMinor: 1 },
  { ...base, name: "empty", kind: "file", perm: 0o4755, uid: 1000, gid: 1000, size: 0 },
];

describe("cpio newc writer", () => {
  it("encodes a header of 110 bytes plus the name, padded to 4", () => {
    const h = encodeHeader({ ...base, name: "ab", kind: "file", perm: 0o644, size: 3 }, 7);
    expect(h.toString("ascii", 0, 6)).toBe("070701");
    expect(h.length % 4).toBe(0);
    expect(h.toString("ascii", 6, 14)).toBe("00000007"); // ino
    expect(h.toString("ascii", 14, 22)).toBe((0o100644).toString(16).padStart(8, "0"));
    expect(h.toString("ascii", 94, 102)).toBe("00000003"); // namesize includes the NUL
    expect(h.length).toBe(116); // 110 + "ab\0" = 113, padded to 4
  });

  it("round-trips through its own reader with positional inode numbers", async () => {
    const archive = await collect(sample, { "bin/hello": "hello\n" });
    expect(archive.length % 4).toBe(0);
    const read = readCpio(archive);
    expect(read.map((e) => e.name)).toEqual(sample.map((e) => e.name));
    expect(read.map((e) => e.ino)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(read[2]!.data.toString()).toBe("hello\n");
    expect(read[3]!.data.toString()).toBe("hello");
    expect(read[6]!.mode & 0o7777).toBe(0o4755);
    expect(read.every((e) => e.mtime === 1700000000)).toBe(true);
    expect(archive.includes(Buffer.from(TRAILER))).toBe(true);
  });

  it("is read back by GNU cpio with the same names, modes and content", async () => {
    const archive = await collect(sample, { "bin/hello": "hello\n" });
    const dir = mkdtempSync(join(tmpdir(), "cpio-"));
    writeFileSync(join(dir, "a.cpio"), archive);
    const listing = execFileSync("cpio", ["-t", "-v", "--quiet", "-F", join(dir, "a.cpio")], {
      encoding: "utf8",
    });
    const lines = listing.trim().split("\n");
    // The name follows the date ("Nov 14  2023"); a device shows "major, minor" for a size.
    const names = lines.map((l) => l.replace(/^.*? \d{4} /, ""));
    expect(names).toEqual([".", "bin", "bin/hello", "bin/sh -> hello", "dev", "dev/console", "empty"]);
    expect(lines[2]).toMatch(/^-rwxr-xr-x/);
    expect(lines[5]).toMatch(/^crw-------/);
    expect(lines[6]).toMatch(/^-rwsr-xr-x/);
    const out = join(dir, "x");
    execFileSync("mkdir", [out]);
    execFileSync("cpio", ["-i", "-d", "--quiet", "-F", join(dir, "a.cpio"), "bin/hello"], { cwd: out });
    expect(execFileSync("cat", [join(out, "bin/hello")], { encoding: "utf8" })).toBe("hello\n");
  });

  it("gives identical bytes for identical entries", async () => {
    const a = await collect(sample, { "bin/hello": "hello\n" });
    const b = await collect(sample, { "bin/hello": "hello\n" });
    expect(a.equals(b)).toBe(true);
  });

  it("refuses content whose size changed since it was listed", async () => {
    await expect(
      collect([{ ...base, name: "f", kind: "file", perm: 0o644, size: 2 }], { f: "abc" }),
    ).rejects.toThrow(/grew/);
    await expect(
      collect([{ ...base, name: "f", kind: "file", perm: 0o644, size: 5 }], { f: "abc" }),
    ).rejects.toThrow(/expected 5/);
  });
});
