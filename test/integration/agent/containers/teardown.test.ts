// RemoveContainer's timeout and DestroySandbox, through the real agent and runc.
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Code } from "../../../../agent/src/client/index.js";
import { startAgent } from "../../../helpers/agent.js";
import { containerSpec } from "../../../helpers/oci.js";
import { rpcError } from "./helpers.js";

describe("teardown", () => {
  it("RemoveContainer answers ETIME when its timeout passes, and finishes the removal afterwards", async () => {
    // A runtime whose delete takes 5 s (a wrapper around runc): a slow runtime, for real.
    const dir = mkdtempSync(path.join(tmpdir(), "slow-runtime-"));
    const slow = path.join(dir, "runc");
    writeFileSync(slow, '#!/bin/sh\ncase " $* " in *" delete "*) sleep 5;; esac\nexec runc "$@"\n');
    chmodSync(slow, 0o755);
    const a = await startAgent({ env: { KATA_AGENT_OCI_RUNTIME: slow } });
    await a.agent.createSandbox({});
    await a.agent.createContainer({ containerId: "slow", OCI: containerSpec({ args: ["sleep", "100000"] }) });
    await a.agent.startContainer({ containerId: "slow" });
    const started = Date.now();
    const err = await rpcError(a.agent.removeContainer({ containerId: "slow", timeout: 1 }));
    expect(err.code).toBe(Code.Internal);
    expect(err.message).toMatch(/^ETIME: Timer expired/);
    expect(Date.now() - started).toBeLessThan(4500);
    // The removal carries on in the background and completes.
    for (let i = 0; i < 100 && existsSync(path.join(a.dir, "run/slow")); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(path.join(a.dir, "run/slow"))).toBe(false);
    expect(await rpcError(a.agent.removeContainer({ containerId: "slow" }))).toMatchObject({
      code: Code.Internal,
    });
    await a.stop();
    rmSync(dir, { recursive: true });
  });

  it("DestroySandbox removes every container, fails pending GetOOMEvent, and the agent exits", async () => {
    const a = await startAgent({ env: { KATA_AGENT_OCI_RUNTIME: "runc" } });
    await a.agent.createSandbox({ sandboxId: "pod" });
    const pids: number[] = [];
    for (const id of ["pod", "app"]) {
      await a.agent.createContainer({
        containerId: id,
        OCI: containerSpec({ args: ["sleep", "100000"] }),
        sandboxPidns: id !== "pod",
      });
      await a.agent.startContainer({ containerId: id });
      pids.push(Number(readFileSync(path.join(a.dir, `run/${id}/init.pid`), "utf8")));
    }
    // The second container shares the first one's PID, IPC and UTS namespaces.
    for (const ns of ["pid", "ipc", "uts"]) {
      expect(readlinkSync(`/proc/${pids[1]}/ns/${ns}`)).toBe(readlinkSync(`/proc/${pids[0]}/ns/${ns}`));
    }
    expect(readlinkSync(`/proc/${pids[1]}/ns/mnt`)).not.toBe(readlinkSync(`/proc/${pids[0]}/ns/mnt`));
    const oom = rpcError(a.agent.getOOMEvent({}));
    await a.agent.destroySandbox({});
    expect((await oom).code).toBe(Code.Internal);
    for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(path.join(a.dir, "run/pod"))).toBe(false);
    const exit = await a.process;
    expect(exit.exitCode).toBe(0);
    expect(a.logs().map((r) => r.msg)).toContain("sandbox destroyed");
  });
});
