// kata-build initrd on the shared Debian root: listed back with GNU cpio, compared with the
// tree, reproducible, with /init pointing at the real init, and (zstd, the default) within 60 MB.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { buildInitrd, defaultCompression } from "../../../builder/src/pipelines/initrd.js";
import { Progress } from "../../../builder/src/util/progress.js";
import { walkTree } from "../../../builder/src/util/tree.js";
import { type DebianRootfs, debianRootfs, EPOCH } from "../../helpers/builder-debian.js";

let rootfs: DebianRootfs;
const quiet = new Progress({ quiet: true });
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

beforeAll(async () => {
  rootfs = await debianRootfs("systemd");
}, 15 * 60_000);

describe("kata-build initrd", () => {
  it("writes a gzip cpio that GNU cpio lists as the rootfs tree plus /init, bit-identically twice", async () => {
    const outs = [mkdtempSync(join(tmpdir(), "kb-initrd-")), mkdtempSync(join(tmpdir(), "kb-initrd-"))];
    for (const out of outs) {
      await buildInitrd(
        { rootfs: rootfs.root, out, name: "initrd.img", compression: "gzip", epoch: EPOCH },
        quiet,
      );
    }
    const [a, b] = outs.map((o) => join(o, "initrd.img")) as [string, string];
    expect(sha(a)).toBe(sha(b));
    const bytes = readFileSync(a);
    const listed = execFileSync("cpio", ["-t", "--quiet"], { input: gunzipSync(bytes), maxBuffer: 64 << 20 })
      .toString()
      .trim()
      .split("\n");
    const tree = await walkTree(rootfs.root);
    const expected = tree.entries.filter((e) => e.type !== "socket").map((e) => e.path || ".");
    expect(listed.filter((n) => n !== "init")).toEqual(expected);
    expect(listed).toContain("init");
    // /init points straight at systemd (one link, not /sbin/init -> ... -> systemd).
    const verbose = execFileSync("cpio", ["-t", "-v", "--quiet", "init"], {
      input: gunzipSync(bytes),
    }).toString();
    expect(verbose).toMatch(/init -> \/usr\/lib\/systemd\/systemd/);
    const manifest = JSON.parse(readFileSync(join(outs[0]!, "initrd.img.manifest.json"), "utf8"));
    expect(manifest.outputs[0]).toMatchObject({ name: "initrd.img", sha256: sha(a) });
  }, 300_000);

  it("compresses with zstd -9 by default: within the 60 MB goal, a small window, from the tarball too", async () => {
    const out = mkdtempSync(join(tmpdir(), "kb-initrd-"));
    const { manifest } = await buildInitrd(
      { rootfs: rootfs.tar, out, name: "initrd.zst", compression: defaultCompression, epoch: EPOCH },
      quiet,
    );
    const file = join(out, "initrd.zst");
    // The size goal for the Debian guest (systemd flavour, the larger one): 60 MB at most.
    expect(statSync(file).size).toBeLessThanOrEqual(60_000_000);
    // The kernel allocates the window while unpacking: zstd -9's 4 MiB, no long mode.
    const info = execFileSync("zstd", ["-lv", file], { encoding: "utf8" });
    expect(Number(/Window Size: .*\((\d+) B\)/.exec(info)![1])).toBeLessThanOrEqual(8 << 20);
    expect(manifest.initrd).toMatchObject({
      compression: "zstd",
      level: 9,
      tool: expect.stringMatching(/^zstd \d/),
    });
    const raw = execFileSync("zstd", ["-d", "-c", file], { maxBuffer: 512 << 20 });
    const listed = execFileSync("cpio", ["-t", "--quiet"], { input: raw, maxBuffer: 64 << 20 }).toString();
    expect(listed.split("\n")).toContain("usr/lib/kata-agent/kata-agent.mjs");
    // The same tree from the directory gives the same bytes.
    const again = mkdtempSync(join(tmpdir(), "kb-initrd-"));
    await buildInitrd(
      { rootfs: rootfs.root, out: again, name: "initrd.zst", compression: defaultCompression, epoch: EPOCH },
      quiet,
    );
    expect(sha(join(again, "initrd.zst"))).toBe(sha(file));
  }, 300_000);
});
