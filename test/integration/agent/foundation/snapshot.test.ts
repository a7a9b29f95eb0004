// The agent started from a start-up snapshot made by this machine's node the way kata-build makes
// one in a guest (snapshotBuildArgs): without node's code cache for its built-in modules when
// this node can leave it out, and still running a container, whose path loads built-ins the
// snapshot did not hold.
import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canOmitCodeCache, snapshotBuildArgs } from "../../../../builder/src/stages/make-agent-snapshot.js";
import { type RunningAgent, repoRoot, shippedNodeFlags, startAgent } from "../../../helpers/agent.js";
import { containerSpec } from "../../../helpers/oci.js";

const entry = path.join(repoRoot, "agent/dist/kata-agent-snapshot.cjs");

async function makeBlob(dir: string, nodeVersion: string): Promise<string> {
  const files = { entry, blob: path.join(dir, `${nodeVersion}.blob`), config: path.join(dir, "config.json") };
  const build = snapshotBuildArgs(nodeVersion, files);
  if (build.config) writeFileSync(files.config, build.config);
  await execa(process.execPath, [...shippedNodeFlags(), ...build.args], { stdin: "ignore" });
  return files.blob;
}

describe("a start-up snapshot made as kata-build makes it", () => {
  let dir: string;
  let blob: string;
  let a: RunningAgent;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "snapshot-"));
    blob = await makeBlob(dir, process.version);
    a = await startAgent({ snapshotBlob: blob, env: { KATA_AGENT_OCI_RUNTIME: "runc" } });
  });
  afterAll(async () => {
    await a?.stop();
  });

  it.runIf(canOmitCodeCache(process.version))(
    "leaves out node's code cache for its built-ins (half the blob)",
    async () => {
      // The same entry, made the way a node without the option must (v20.11 is the last such).
      const withCache = await makeBlob(dir, "v20.11.1");
      const saved = statSync(withCache).size - statSync(blob).size;
      expect(saved).toBeGreaterThan(1 << 20);
    },
  );

  it("starts the agent from the blob, which then runs a container", async () => {
    const ready = a.logs().find((r) => r.msg === "agent ready");
    expect(ready).toMatchObject({ snapshot: true });
    await a.agent.createSandbox({ sandboxId: "pod" });
    await a.agent.createContainer({
      containerId: "c1",
      OCI: containerSpec({ args: ["sh", "-c", "exit 7"] }),
    });
    await a.agent.startContainer({ containerId: "c1" });
    expect((await a.agent.waitProcess({ containerId: "c1", execId: "c1" })).status).toBe(7);
    await a.agent.removeContainer({ containerId: "c1" });
    await a.agent.destroySandbox({});
  });
});
