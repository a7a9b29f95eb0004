// agent.container_pipe_size is a request that can be refused (past pipe-max-size for an
// unprivileged agent; here, more than F_SETPIPE_SZ's int can express): the container's pipes then
// keep the kernel's size and still work, where CreateContainer used to fail (and leak six fds).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningAgent, startAgent } from "../../../helpers/agent.js";
import { containerSpec } from "../../../helpers/oci.js";
import { readAll } from "./helpers.js";

describe("a pipe size that cannot be set", () => {
  let a: RunningAgent;
  beforeAll(async () => {
    a = await startAgent({
      cmdline: "agent.container_pipe_size=4294967295",
      env: { KATA_AGENT_OCI_RUNTIME: "runc" },
    });
    await a.agent.createSandbox({ sandboxId: "pod" });
  });
  afterAll(async () => {
    await a.stop();
  });

  it("still runs the container, its output through pipes of the kernel's size", async () => {
    await a.agent.createContainer({
      containerId: "big",
      OCI: containerSpec({ args: ["seq", "1", "20000"] }),
    });
    await a.agent.startContainer({ containerId: "big" });
    const out = await readAll(a, "big", "big", "stdout");
    expect(out).toBe(Array.from({ length: 20000 }, (_, i) => `${i + 1}\n`).join(""));
    expect((await a.agent.waitProcess({ containerId: "big", execId: "big" })).status).toBe(0);
    await a.agent.removeContainer({ containerId: "big" });
  });
});
