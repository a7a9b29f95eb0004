// An OCI runtime that dies by a signal (the OOM killer's SIGKILL, say) has no exit status: the
// error must name the signal. The runtime here is real runc behind a wrapper that is killed by
// SIGKILL for every command but --version.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningAgent, startAgent } from "../../../helpers/agent.js";
import { containerSpec } from "../../../helpers/oci.js";
import { rpcError } from "../containers/helpers.js";

describe("an OCI runtime killed by a signal", () => {
  let a: RunningAgent;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "killed-runtime-"));
    const wrapper = path.join(dir, "runc");
    writeFileSync(wrapper, '#!/bin/sh\n[ "$1" = --version ] && exec runc --version\nkill -KILL $$\n');
    chmodSync(wrapper, 0o755);
    a = await startAgent({ env: { KATA_AGENT_OCI_RUNTIME: wrapper } });
    await a.agent.createSandbox({ sandboxId: "pod" });
  });
  afterAll(async () => {
    await a.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is reported with the signal's name", async () => {
    const err = await rpcError(
      a.agent.createContainer({ containerId: "c1", OCI: containerSpec({ args: ["true"] }) }),
    );
    expect(err.message).toMatch(/failed to create container c1: runc was killed by SIGKILL/);
    expect(err.message).not.toMatch(/undefined/);
  });
});
