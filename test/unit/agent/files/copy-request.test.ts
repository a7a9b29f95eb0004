import { describe, expect, it } from "vitest";
import { type CopyFileInput, planCopy } from "../../../../agent/src/files/copy-request.js";

const ROOT = "/run/kata-containers/shared/containers";

function req(fields: Partial<CopyFileInput>): CopyFileInput {
  return {
    path: `${ROOT}/c1/file`,
    fileSize: 3n,
    fileMode: 0o100644,
    dirMode: 0o750,
    uid: 0,
    gid: 0,
    offset: 0n,
    data: new Uint8Array([1, 2, 3]),
    ...fields,
  };
}

const refused = (fields: Partial<CopyFileInput>, text: string | RegExp) =>
  expect(() => planCopy(req(fields), ROOT)).toThrow(
    expect.objectContaining({ kind: "invalid-input", message: expect.stringMatching(text) }),
  );

describe("planCopy", () => {
  it("plans regular files, directories and symlinks", () => {
    expect(planCopy(req({}), ROOT)).toMatchObject({
      kind: "file",
      components: ["c1", "file"],
      mode: 0o644,
      dirMode: 0o750,
      size: 3,
    });
    expect(planCopy(req({ fileMode: 0o040755, data: new Uint8Array() }), ROOT)).toMatchObject({
      kind: "directory",
      mode: 0o755,
    });
    expect(planCopy(req({ fileMode: 0o120777, data: Buffer.from("../x") }), ROOT)).toMatchObject({
      kind: "symlink",
      target: "../x",
    });
    // No type bits: a regular file, as upstream treats it. Names starting with ".." are fine.
    expect(planCopy(req({ fileMode: 0o600, path: `${ROOT}/c1/..data/key` }), ROOT)).toMatchObject({
      kind: "file",
      components: ["c1", "..data", "key"],
    });
  });

  it("refuses destinations outside the root", () => {
    refused(
      { path: "/etc/passwd" },
      /only writes below \/run\/kata-containers\/shared\/containers\/; "\/etc\/passwd" is outside it/,
    );
    refused({ path: "/run/kata-containers/shared/foo" }, /outside it/);
    refused({ path: `${ROOT}-evil/x` }, /outside it/);
    refused({ path: "relative/path" }, /outside it/);
    refused({ path: ROOT }, /outside it/);
    refused({ path: `${ROOT}/` }, /names the directory itself/);
  });

  it("refuses .. and . components and NUL bytes", () => {
    refused({ path: `${ROOT}/../../../etc/passwd` }, /contains a "\.\." component/);
    refused({ path: `${ROOT}/c1/../../x` }, /contains a "\.\." component/);
    refused({ path: `${ROOT}/c1/./x` }, /contains a "\." component/);
    refused({ path: `${ROOT}/c1/x\0y` }, /NUL byte/);
  });

  it("refuses absurd sizes and offsets", () => {
    refused({ fileSize: -1n }, /file_size -1 .* is negative/);
    refused(
      { fileSize: 1n << 62n, data: new Uint8Array() },
      /exceeds this agent's CopyFile limit of 17179869184 bytes/,
    );
    refused({ offset: -5n }, /offset -5 .* is negative/);
    refused({ offset: 10n, data: new Uint8Array() }, /offset 10 of .* lies beyond its file_size 3/);
    refused({ offset: 2n }, /ends at byte 5, beyond its file_size 3/);
    expect(() => planCopy(req({ fileSize: 100n, data: new Uint8Array(10) }), ROOT, 50)).toThrow(
      /limit of 50 bytes/,
    );
  });

  it("refuses other file types, empty or oversized link targets and bad ids", () => {
    refused({ fileMode: 0o020644 }, /another file type/);
    refused({ fileMode: 0o010644 }, /another file type/);
    refused({ fileMode: 0o120777, data: new Uint8Array() }, /has no target/);
    refused({ fileMode: 0o120777, data: new Uint8Array(5000).fill(65) }, /limit is 4095/);
    refused({ uid: -2 }, /uid -2 is not a valid id/);
    expect(planCopy(req({ uid: -1, gid: -1 }), ROOT)).toMatchObject({ uid: -1, gid: -1 });
  });
});
