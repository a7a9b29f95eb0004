// agent/gen/ is committed, so a .proto edited without `npm run gen:proto` would ship stale
// messages. Regenerate into a scratch directory and require byte-identical output.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../../helpers/agent.js";

const committed = path.join(repoRoot, "agent/gen");
const scratch = mkdtempSync(path.join(tmpdir(), "kata-gen-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function tree(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? tree(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
    )
    .sort();
}

describe("generated protobuf code", () => {
  it("matches what the .proto files generate today (run `npm run gen:proto` if not)", () => {
    execFileSync(process.execPath, [path.join(repoRoot, "agent/proto/generate.mjs"), "--out", scratch], {
      stdio: "pipe",
    });
    const files = tree(scratch);
    expect(files).toContain("agent_pb.ts");
    expect(tree(committed)).toEqual(files);
    const stale = files.filter(
      (f) => readFileSync(path.join(scratch, f), "utf8") !== readFileSync(path.join(committed, f), "utf8"),
    );
    expect(stale).toEqual([]);
  });
});
