import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKernelContext } from "../../../../builder/src/context.js";
import { fetchKernelSource, treeFingerprint } from "../../../../builder/src/stages/fetch-kernel-source.js";
import { BuildError } from "../../../../builder/src/util/errors.js";

const root = mkdtempSync(join(tmpdir(), "kata-kernel-fetch-"));
const tarball = Buffer.from("pretend this is linux-9.9.9.tar.xz");
const sha = createHash("sha256").update(tarball).digest("hex");
let server: Server;
let base = "";
let requests = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    if (req.url === "/pub/linux/kernel/v9.x/linux-9.9.9.tar.xz") res.end(tarball);
    else if (req.url === "/pub/linux/kernel/v9.x/linux-9.9.8.tar.xz") res.end("tampered");
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pub`;
  mkdirSync(join(root, "data"));
  writeFileSync(
    join(root, "data", "versions.conf"),
    `# test pins\n9.9.9 ${sha}\n9.9.8 ${sha}\n9.9.7 ${sha}\n`,
  );
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

const ctx = (source: string, mirror?: string) =>
  createKernelContext({
    hypervisor: "kvm",
    arch: "x86_64",
    source,
    cacheDir: join(root, "cache"),
    dataDir: join(root, "data"),
    ...(mirror ? { mirror } : {}),
  });

describe("fetching a pinned kernel version", () => {
  it("downloads once, checks the sha256 and reuses the verified download", async () => {
    const first = await fetchKernelSource(ctx("9.9.9", base));
    expect(first).toMatchObject({ kind: "tarball", sha256: sha, pinned: { version: "9.9.9" } });
    expect(readFileSync(first.path)).toEqual(tarball);
    const seen = requests;
    const second = await fetchKernelSource(ctx("9.9.9", base));
    expect(second.path).toBe(first.path);
    expect(requests).toBe(seen);
  });

  it("refuses a download whose sha256 does not match the pin, caching nothing", async () => {
    await expect(fetchKernelSource(ctx("9.9.8", base))).rejects.toThrow(
      /has sha256 .* but versions\.conf pins/,
    );
    await expect(fetchKernelSource(ctx("9.9.8", base))).rejects.toThrow(/but versions\.conf pins/);
  });

  it("says clearly when the machine is offline, and suggests a local source", async () => {
    // A port that was just free: nothing listens there, as when kernel.org is unreachable.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const url = `http://127.0.0.1:${port}/pub`;
    const err = (await fetchKernelSource(ctx("9.9.7", url)).catch((e: unknown) => e)) as BuildError;
    expect(err).toBeInstanceOf(BuildError);
    expect(err.message).toBe(`cannot download ${url}/linux/kernel/v9.x/linux-9.9.7.tar.xz: ECONNREFUSED`);
    expect(err.hint).toContain("pass a local tarball or unpacked tree");
  });

  it("names unpinned versions and non-existent paths", async () => {
    const err = (await fetchKernelSource(ctx("9.9.1", base)).catch((e: unknown) => e)) as BuildError;
    expect(err.message).toContain("kernel 9.9.1 is not pinned");
    expect(err.hint).toContain("pinned: 9.9.9, 9.9.8, 9.9.7");
    await expect(fetchKernelSource(ctx("/no/such/linux.tar.xz"))).rejects.toThrow(
      /is not a file, a directory or a kernel version/,
    );
  });
});

describe("local sources", () => {
  it("identifies a tarball by its sha256", async () => {
    const path = join(root, "local.tar.xz");
    writeFileSync(path, tarball);
    expect(await fetchKernelSource(ctx(path))).toEqual({ kind: "tarball", path, sha256: sha });
  });

  it("fingerprints a tree by paths, sizes and times, ignoring .git", async () => {
    const tree = join(root, "tree");
    mkdirSync(join(tree, "sub", ".git"), { recursive: true });
    writeFileSync(join(tree, "Makefile"), "VERSION = 9\n");
    writeFileSync(join(tree, "sub", "a.c"), "int a;\n");
    const before = await treeFingerprint(tree);
    writeFileSync(join(tree, "sub", ".git", "HEAD"), "ref\n");
    expect(await treeFingerprint(tree)).toBe(before);
    writeFileSync(join(tree, "sub", "a.c"), "int a, b;\n");
    expect(await treeFingerprint(tree)).not.toBe(before);
    expect(await fetchKernelSource(ctx(tree))).toMatchObject({ kind: "tree", path: tree });
  });
});
