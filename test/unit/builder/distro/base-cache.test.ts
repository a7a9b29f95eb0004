// The base-tree cache: keys follow the request, an entry is reused only while every package
// it holds is still the candidate, and stores are atomic and keep owners, modes and links.
import { execFileSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type BaseRecord,
  baseKey,
  readBase,
  restoreBase,
  staleReasons,
  storeBase,
} from "../../../../builder/src/distro/base-cache.js";

const record = (over: Partial<BaseRecord> = {}): BaseRecord => ({
  schema: 1,
  key: "k1",
  request: { packages: ["nodejs"] },
  installed: [
    { name: "libc6", version: "2.36-9+deb12u13", arch: "amd64" },
    { name: "nodejs", version: "18.20.4+dfsg-1~deb12u3", arch: "amd64" },
  ],
  seeds: ["base-files", "libc6"],
  created: "2025-01-01T00:00:00.000Z",
  ...over,
});

describe("base-tree cache", () => {
  it("keys on the whole request", () => {
    const a = baseKey({ suite: "bookworm", packages: ["a", "b"] });
    expect(baseKey({ suite: "bookworm", packages: ["a", "b"] })).toBe(a);
    expect(baseKey({ suite: "bookworm", packages: ["a", "b", "c"] })).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{24}$/);
  });

  it("is current only while every installed version is the candidate and the seeds are unchanged", () => {
    const current = new Map([
      ["libc6", "2.36-9+deb12u13"],
      ["nodejs", "18.20.4+dfsg-1~deb12u3"],
    ]);
    expect(staleReasons(record(), current, ["base-files", "libc6"])).toEqual([]);
    const updated = new Map([...current, ["libc6", "2.36-9+deb12u14"]]);
    expect(staleReasons(record(), updated, ["base-files", "libc6"])).toEqual([
      "libc6 2.36-9+deb12u13 -> 2.36-9+deb12u14",
    ]);
    const gone = new Map([["libc6", "2.36-9+deb12u13"]]);
    expect(staleReasons(record(), gone, ["base-files", "libc6"])).toEqual([
      "nodejs 18.20.4+dfsg-1~deb12u3 is no longer available",
    ]);
    expect(staleReasons(record(), current, ["base-files", "libc6", "newpkg"])).toEqual([
      "new essential/required packages: newpkg",
    ]);
    expect(staleReasons(record(), current, ["libc6"])).toEqual(["no longer essential/required: base-files"]);
  });

  it("stores a tree atomically, replaces an entry, and restores it with modes, owners and links", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kb-base-"));
    const src = join(dir, "src");
    mkdirSync(join(src, "usr", "bin"), { recursive: true });
    writeFileSync(join(src, "usr", "bin", "tool"), "#!/bin/sh\n", { mode: 0o4755 });
    symlinkSync("usr/bin", join(src, "bin"));
    execFileSync("chown", ["-h", "123:456", join(src, "bin")]);
    const cache = join(dir, "cache");
    expect(await readBase(cache, "k1")).toBeUndefined();
    await storeBase(cache, record(), src);
    writeFileSync(join(src, "usr", "bin", "tool"), "changed\n");
    const entry = await readBase(cache, "k1");
    expect(entry?.record.installed).toHaveLength(2);
    const out = join(dir, "out");
    await restoreBase(entry!, out);
    expect(readFileSync(join(out, "usr", "bin", "tool"), "utf8")).toBe("#!/bin/sh\n");
    expect(lstatSync(join(out, "usr", "bin", "tool")).mode & 0o7777).toBe(0o4755);
    expect(readlinkSync(join(out, "bin"))).toBe("usr/bin");
    expect(lstatSync(join(out, "bin")).uid).toBe(123);
    // A second store replaces the entry and leaves no temporary directory behind.
    await storeBase(cache, record({ created: "2025-02-01T00:00:00.000Z" }), src);
    expect((await readBase(cache, "k1"))?.record.created).toBe("2025-02-01T00:00:00.000Z");
    expect(readdirSync(cache)).toEqual(["k1"]);
  });

  it("ignores an entry without its tree or with a damaged record", async () => {
    const cache = mkdtempSync(join(tmpdir(), "kb-base-"));
    mkdirSync(join(cache, "k1"));
    writeFileSync(join(cache, "k1", "record.json"), JSON.stringify(record()));
    expect(await readBase(cache, "k1")).toBeUndefined();
    mkdirSync(join(cache, "k1", "root"));
    expect(await readBase(cache, "k1")).toBeDefined();
    writeFileSync(join(cache, "k1", "record.json"), "{");
    expect(await readBase(cache, "k1")).toBeUndefined();
    expect(existsSync(join(cache, "k1", "root"))).toBe(true);
  });
});
