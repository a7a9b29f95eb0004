// Deterministic tarballs: sorted entries, fixed mtimes, numeric owners, kept links; and a
// safe extraction that refuses to write through a symlink out of the root.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tar from "tar-stream";
import { describe, expect, it } from "vitest";
import { extractTar, memberPath, writeTar } from "../../../../builder/src/formats/tar.js";
import { walkTree } from "../../../../builder/src/util/tree.js";

const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

function makeTree(dir: string, order: string[]): void {
  mkdirSync(join(dir, "etc"), { recursive: true });
  for (const name of order) writeFileSync(join(dir, "etc", name), `${name}\n`);
  symlinkSync("etc/a", join(dir, "link"));
  linkSync(join(dir, "etc", "a"), join(dir, "hard"));
  mkdirSync(join(dir, "x".repeat(90), "y".repeat(90)), { recursive: true });
  writeFileSync(join(dir, "x".repeat(90), "y".repeat(90), "z".repeat(40)), "deep\n");
}

describe("deterministic tar", () => {
  it("gives the same bytes for the same tree, whatever the creation order and file times", async () => {
    const a = mkdtempSync(join(tmpdir(), "tar-a-"));
    const b = mkdtempSync(join(tmpdir(), "tar-b-"));
    makeTree(a, ["a", "b", "c"]);
    makeTree(b, ["c", "b", "a"]);
    utimesSync(join(b, "etc", "b"), 12345, 12345);
    await writeTar(await walkTree(a), join(a, "..", `${a.split("/").pop()}.tar`), 1700000000);
    await writeTar(await walkTree(b), join(b, "..", `${b.split("/").pop()}.tar`), 1700000000);
    const ta = join(a, "..", `${a.split("/").pop()}.tar`);
    const tb = join(b, "..", `${b.split("/").pop()}.tar`);
    expect(sha(ta)).toBe(sha(tb));
    const listing = execFileSync("tar", ["-tvf", ta, "--numeric-owner"], { encoding: "utf8" })
      .trim()
      .split("\n");
    const names = listing.map((l) => l.split(/\s+/).slice(5).join(" "));
    expect(names.slice(0, 7)).toEqual([
      "./",
      "etc/",
      "etc/a",
      "etc/b",
      "etc/c",
      "hard link to etc/a",
      "link -> etc/a",
    ]);
    expect(listing.every((l) => l.includes("2023-11-14 22:13"))).toBe(true);
    expect(listing[2]).toMatch(/ 0\/0 /);
    expect(listing.some((l) => l.endsWith(`${"z".repeat(40)}`))).toBe(true);
  });

  it("extracts back to the same tree, hard link and long names included", async () => {
    const a = mkdtempSync(join(tmpdir(), "tar-a-"));
    makeTree(a, ["a", "b"]);
    const file = `${a}.tar`;
    await writeTar(await walkTree(a), file, 1700000000);
    const out = mkdtempSync(join(tmpdir(), "tar-x-"));
    const tree = await extractTar(file, join(out, "root"));
    const original = await walkTree(a);
    const strip = (t: typeof tree) => t.entries.map((e) => [e.path, e.type, e.size, e.link ?? ""]);
    expect(strip(tree)).toEqual(strip(original));
    expect(readFileSync(join(out, "root", "hard"), "utf8")).toBe("a\n");
  });

  it("keeps a mode of 0000 (like /etc/shadow's) and a private directory's 0700", async () => {
    const a = mkdtempSync(join(tmpdir(), "tar-a-"));
    writeFileSync(join(a, "shadow"), "root:*:19675:0:99999:7:::\n");
    chmodSync(join(a, "shadow"), 0);
    mkdirSync(join(a, "private"), { mode: 0o700 });
    const file = `${a}.tar`;
    await writeTar(await walkTree(a), file, 1700000000);
    const listing = execFileSync("tar", ["-tvf", file], { encoding: "utf8" });
    expect(listing).toMatch(/^---------- .* shadow$/m);
    expect(listing).toMatch(/^drwx------ .* private\/$/m);
    const tree = await extractTar(file, join(mkdtempSync(join(tmpdir(), "tar-x-")), "root"));
    expect(tree.entries.find((e) => e.path === "shadow")?.perm).toBe(0);
    expect(tree.entries.find((e) => e.path === "private")?.perm).toBe(0o700);
  });

  it("refuses members that escape the root, directly or through a symlink", async () => {
    expect(() => memberPath("../etc/passwd")).toThrow(/escapes/);
    expect(memberPath("./usr/bin/")).toBe("usr/bin");
    const dir = mkdtempSync(join(tmpdir(), "tar-evil-"));
    const pack = tar.pack();
    pack.entry({ name: "esc", type: "symlink", linkname: dir });
    pack.entry({ name: "esc/owned", type: "file", size: 2 }, "x\n");
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(Buffer.from(c as Uint8Array));
    writeFileSync(join(dir, "evil.tar"), Buffer.concat(chunks));
    await expect(extractTar(join(dir, "evil.tar"), join(dir, "root"))).rejects.toThrow(/non-directory/);
  });
});
