// agent.oci_runtime=auto picks a runtime that can run containers on this host: crun, unless
// the cgroup layout is one crun refuses (hybrid with v2 controllers, as on this CI machine),
// where it takes runc and says so once. A runtime failing on a known host problem names the fix.
import { afterEach, describe, expect, it } from "vitest";
import { type RunningAgent, startAgent } from "../../../helpers/agent.js";
import { hostIsHybridWithControllers } from "../../../helpers/cgroups.js";
import { containerSpec } from "../../../helpers/oci.js";
import { readAll, rpcError } from "../containers/helpers.js";

const hybrid = hostIsHybridWithControllers();
let agent: RunningAgent | undefined;

afterEach(async () => {
  await agent?.stop();
  agent = undefined;
});

async function runEcho(a: RunningAgent, id: string): Promise<{ output: string; status: number }> {
  await a.agent.createSandbox({ sandboxId: `pod-${id}` });
  await a.agent.createContainer({
    containerId: id,
    execId: id,
    OCI: containerSpec({ args: ["/bin/echo", "hello from", id] }),
  });
  await a.agent.startContainer({ containerId: id });
  const output = await readAll(a, id, id, "stdout");
  const { status } = await a.agent.waitProcess({ containerId: id, execId: id });
  return { output, status };
}

const runtimeLines = (a: RunningAgent) =>
  a.logs().filter((r) => r.msg === "OCI runtime" || String(r.msg).startsWith("not using crun"));

describe("agent.oci_runtime=auto", () => {
  it(`picks ${hybrid ? "runc (this host's cgroups are hybrid)" : "crun"} and runs a container`, async () => {
    agent = await startAgent({ env: { KATA_AGENT_OCI_RUNTIME: "auto" } });
    const { output, status } = await runEcho(agent, "auto1");
    expect(output).toBe("hello from auto1\n");
    expect(status).toBe(0);
    const lines = runtimeLines(agent);
    expect(lines).toHaveLength(1);
    if (hybrid) {
      expect(lines[0]!.level).toBe("warn");
      expect(String(lines[0]!.msg)).toMatch(/not using crun: cgroups are in hybrid mode.*using runc instead/);
    } else {
      expect(lines[0]!.flavour).toBe("crun");
    }
  });

  it("picks crun where the host has no hybrid cgroup2 mount (a private mount namespace without it)", async () => {
    agent = await startAgent({
      env: { KATA_AGENT_OCI_RUNTIME: "auto" },
      // As crunWrapper does for the container tests: the agent's own view without unified/.
      launcher: [
        "unshare",
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"',
        "sh",
      ],
    });
    const { output, status } = await runEcho(agent, "auto2");
    expect(output).toBe("hello from auto2\n");
    expect(status).toBe(0);
    expect(runtimeLines(agent).map((r) => r.flavour)).toEqual(["crun"]);
  });
});

describe.runIf(hybrid)("crun chosen explicitly on this hybrid-cgroup host", () => {
  it("fails CreateContainer with crun's reason and the fix", async () => {
    agent = await startAgent({ env: { KATA_AGENT_OCI_RUNTIME: "crun" } });
    await agent.agent.createSandbox({ sandboxId: "pod-crun" });
    const { message } = await rpcError(
      agent.agent.createContainer({
        containerId: "c1",
        execId: "c1",
        OCI: containerSpec({ args: ["/bin/true"] }),
      }),
    );
    expect(message).toContain("cgroups in hybrid mode not supported");
    expect(message).toContain("agent.oci_runtime=runc");
  });
});
