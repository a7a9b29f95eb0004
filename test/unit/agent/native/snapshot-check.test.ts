// kata-agent-snapshot-check, the guest's test whether the agent's start-up snapshot may be used,
// against stamps written with the builder's own hash (builder/src/util/sample-hash.ts): a stamp
// that matches passes only when the C and TypeScript hashes agree byte for byte, and every kind
// of change the stamp guards against makes the wrapper load the bundle instead.
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HashKind, SAMPLE_BYTES, sampleHash } from "../../../../builder/src/util/sample-hash.js";

const FLAGS = ["--max-semi-space-size=1", "--no-deprecation"];
const checker = new URL("../../../../agent/native/build/kata-agent-snapshot-check", import.meta.url).pathname;
let dir: string;

beforeAll(() => {
  execFileSync(process.execPath, [new URL("../../../../agent/native/build.mjs", import.meta.url).pathname]);
  dir = mkdtempSync(join(tmpdir(), "snapshot-check-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Files of the given sizes with random bytes, and a stamp for them. */
async function setUp(name: string, files: { size: number; kind: HashKind }[]) {
  const paths = files.map((f, i) => {
    const path = join(dir, `${name}-${i}`);
    writeFileSync(path, randomBytes(f.size));
    return path;
  });
  const lines = ["kata-agent-snapshot 1", `flags ${FLAGS.join(" ")}`];
  for (const [i, f] of files.entries()) {
    const { size, hash } = await sampleHash(paths[i]!, f.kind);
    lines.push(`${f.kind} ${size} ${hash} ${paths[i]}`);
  }
  const stamp = join(dir, `${name}.stamp`);
  writeFileSync(stamp, `${lines.join("\n")}\n`);
  return { paths, stamp };
}

function check(stamp: string, flags = FLAGS) {
  const r = spawnSync(checker, [stamp, ...flags], { encoding: "utf8" });
  return { status: r.status, stderr: r.stderr };
}

function flipByte(path: string, offset: number): void {
  const fd = openSync(path, "r+");
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, offset);
  b[0] = b[0]! ^ 0xff;
  writeSync(fd, b, 0, 1, offset);
  closeSync(fd);
}

describe("kata-agent-snapshot-check", () => {
  it("passes a stamp the builder wrote (whole files, samples, sizes not a multiple of 4)", async () => {
    const { stamp } = await setUp("ok", [
      { size: 300_001, kind: "full" },
      { size: 3, kind: "full" },
      { size: 200_003, kind: "sample" },
      { size: 2 * SAMPLE_BYTES - 1, kind: "sample" },
    ]);
    expect(check(stamp)).toEqual({ status: 0, stderr: "" });
  });

  it("refuses other node flags, naming both", async () => {
    const { stamp } = await setUp("flags", [{ size: 1000, kind: "full" }]);
    const r = check(stamp, ["--no-deprecation"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /start-up snapshot not used: it was made for node flags '--max-semi-space-size=1 --no-deprecation', not '--no-deprecation'/,
    );
  });

  it("refuses a damaged blob (one byte anywhere) and a truncated one", async () => {
    const { paths, stamp } = await setUp("blob", [{ size: 500_000, kind: "full" }]);
    flipByte(paths[0]!, 250_000);
    expect(check(stamp).stderr).toMatch(/blob-0 has changed since the snapshot was made/);
    flipByte(paths[0]!, 250_000);
    expect(check(stamp).status).toBe(0);
    truncateSync(paths[0]!, 400_000);
    const r = check(stamp);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/blob-0 has changed size/);
  });

  it("refuses another build of a sampled file (its ELF headers differ) and a missing one", async () => {
    const { paths, stamp } = await setUp("node", [{ size: 100_000, kind: "sample" }]);
    flipByte(paths[0]!, 100);
    expect(check(stamp).stderr).toMatch(/node-0 has changed since/);
    flipByte(paths[0]!, 100);
    flipByte(paths[0]!, 100_000 - 10);
    expect(check(stamp).status).toBe(1);
    flipByte(paths[0]!, 100_000 - 10);
    rmSync(paths[0]!);
    expect(check(stamp).stderr).toMatch(/node-0: No such file or directory/);
  });

  it("is quiet without a stamp, and refuses one it cannot read", async () => {
    expect(check(join(dir, "no-such.stamp"))).toEqual({ status: 1, stderr: "" });
    const bad = join(dir, "bad.stamp");
    writeFileSync(bad, "kata-agent-snapshot 1\nflags --no-deprecation\nfull twelve abc /x\n");
    expect(check(bad, ["--no-deprecation"]).stderr).toMatch(/unreadable line 'full twelve abc \/x'/);
    writeFileSync(bad, "kata-agent-snapshot 1\n");
    expect(check(bad).stderr).toMatch(/is not a complete kata-agent-snapshot 1 stamp/);
    expect(spawnSync(checker, [], { encoding: "utf8" }).status).toBe(2);
  });
});
