// The agent policy through the real agent: loaded from KATA_AGENT_POLICY_FILE at start, enforced
// before the handlers run (ExecProcess is refused by policy even while the containers part of the
// agent answers it otherwise), replaced by SetPolicy, and SetPolicy itself subject to the policy.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VersionWithFeaturesSchema } from "../../../../agent/gen/ext/features_pb.js";
import { VersionCheckResponseSchema } from "../../../../agent/gen/health_pb.js";
import { type AgentError, Code } from "../../../../agent/src/client/index.js";
import { type RunningAgent, startAgent } from "../../../helpers/agent.js";

const dir = mkdtempSync(join(tmpdir(), "kata-policy-it-"));
let agent: RunningAgent;

const START_POLICY = {
  version: 1,
  default: "allow",
  rules: [
    {
      name: "no-shell-id",
      rpcs: ["ExecProcess"],
      effect: "deny",
      when: { "process.Args": { equals: ["sh", "-c", "id"] } },
      reason: "no shells in this pod",
    },
  ],
};

async function rpcError(call: Promise<unknown>): Promise<AgentError> {
  try {
    await call;
  } catch (err) {
    return err as AgentError;
  }
  throw new Error("the call succeeded but should have failed");
}

const exec = (args: string[]) =>
  agent.agent.execProcess({ containerId: "c1", execId: "e1", process: { Args: args, Cwd: "/" } });

beforeAll(async () => {
  const file = join(dir, "policy.json");
  writeFileSync(file, JSON.stringify(START_POLICY));
  agent = await startAgent({ env: { KATA_AGENT_POLICY_FILE: file } });
});

afterAll(async () => {
  await agent?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("agent policy", () => {
  it("is named in Version's features", async () => {
    const raw = await agent.client.call("grpc.Health", "Version", new Uint8Array());
    const reply = fromBinary(VersionWithFeaturesSchema, raw);
    expect(reply.features?.policyEngine).toBe("kata-rules/1");
    expect(fromBinary(VersionCheckResponseSchema, raw).agentVersion).not.toBe("");
  });

  it("denies the chosen exec with PERMISSION_DENIED naming the rule and the field, and lets others through", async () => {
    const denied = await rpcError(exec(["sh", "-c", "id"]));
    expect(denied.code).toBe(Code.PermissionDenied);
    expect(denied.message).toBe(
      'ExecProcessRequest is blocked by policy: rule "no-shell-id" denies it: process.Args equals ["sh","-c","id"] (no shells in this pod)',
    );
    // Another command reaches the handler, whatever it answers without a container.
    const other = await exec(["sh", "-c", "date"]).then(
      () => undefined,
      (err: AgentError) => err,
    );
    expect(other?.code).not.toBe(Code.PermissionDenied);
    await expect(agent.agent.getGuestDetails({ memBlockSize: true })).resolves.toBeDefined();
    expect(agent.logs()).toContainEqual(
      expect.objectContaining({
        level: "debug",
        msg: "policy blocks request",
        rpc: "ExecProcess",
        rule: "no-shell-id",
      }),
    );
  });

  it("is replaced by SetPolicy; a malformed policy is refused and the one in force stays", async () => {
    const next = `
version = 1
default = "allow"

[[rules]]
name = "no-guest-details"
rpcs = ["GuestDetailsRequest"]
effect = "deny"

[[rules]]
name = "policy-is-final"
rpcs = ["SetPolicy"]
effect = "deny"
when = { policy = { contains = "allow-everything" } }
`;
    await agent.agent.setPolicy({ policy: next });
    expect((await rpcError(agent.agent.getGuestDetails({}))).message).toBe(
      'GuestDetailsRequest is blocked by policy: rule "no-guest-details" denies it: it applies to every GetGuestDetails request',
    );
    // The old rule is gone.
    const formerlyDenied = await exec(["sh", "-c", "id"]).then(
      () => undefined,
      (err: AgentError) => err,
    );
    expect(formerlyDenied?.code).not.toBe(Code.PermissionDenied);

    const malformed = await rpcError(
      agent.agent.setPolicy({
        policy: JSON.stringify({
          version: 1,
          default: "allow",
          rules: [
            { name: "typo", rpcs: ["ExecProcess"], effect: "deny", when: { "process.args": { equals: [] } } },
          ],
        }),
      }),
    );
    expect(malformed.code).toBe(Code.InvalidArgument);
    expect(malformed.message).toMatch(
      /has no field "args"; did you mean "Args"\?; the current policy stays in force$/,
    );
    const rego = await rpcError(
      agent.agent.setPolicy({
        policy: "package agent_policy\n\ndefault AllowRequestsFailingPolicy := true\n",
      }),
    );
    expect(rego).toMatchObject({
      code: Code.InvalidArgument,
      message: expect.stringContaining("does not evaluate Rego"),
    });
    expect((await rpcError(agent.agent.getGuestDetails({}))).code).toBe(Code.PermissionDenied);
  });

  it("checks SetPolicy itself against the policy in force", async () => {
    const err = await rpcError(
      agent.agent.setPolicy({
        policy: JSON.stringify({ version: 1, default: "allow", description: "allow-everything" }),
      }),
    );
    expect(err.code).toBe(Code.PermissionDenied);
    expect(err.message).toMatch(
      /^SetPolicyRequest is blocked by policy: rule "policy-is-final" denies it: policy ".*" contains "allow-everything"$/,
    );
    expect((await rpcError(agent.agent.getGuestDetails({}))).code).toBe(Code.PermissionDenied);
    await expect(agent.health.check({})).resolves.toBeDefined();
  });
});

describe("agent policy at start-up", () => {
  it("stops the agent with a clear error when the policy file cannot be used", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(
      bad,
      JSON.stringify({
        version: 1,
        default: "allow",
        rules: [{ name: "x", rpcs: ["Exec"], effect: "deny" }],
      }),
    );
    await expect(startAgent({ env: { KATA_AGENT_POLICY_FILE: bad } })).rejects.toThrow(
      /agent exited \(2\) before ready:[\s\S]*kata-agent: agent policy: .*bad\.json: rule "x": unknown RPC "Exec"/,
    );
    await expect(startAgent({ env: { KATA_AGENT_POLICY_FILE: join(dir, "missing.rego") } })).rejects.toThrow(
      /cannot read the policy file .*missing\.rego: ENOENT/,
    );
  });
});

describe("policy regular expressions", () => {
  let hostile: RunningAgent;
  beforeAll(async () => {
    const file = join(dir, "regex-policy.json");
    // (a+)+ backtracks exponentially in JavaScript's RegExp on "aaa…a!": 8 s for 28 characters.
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        default: "allow",
        rules: [
          { name: "nested", rpcs: ["ExecProcess"], effect: "deny", when: { exec_id: { regex: "(a+)+" } } },
        ],
      }),
    );
    hostile = await startAgent({ env: { KATA_AGENT_POLICY_FILE: file } });
  });
  afterAll(async () => {
    await hostile?.stop();
  });

  it("are matched in linear time: Health answers within 50 ms while a hostile value is checked", async () => {
    await hostile.health.check({});
    const execId = `${"a".repeat(28)}!`;
    const execs = Array.from({ length: 5 }, () =>
      hostile.agent
        .execProcess({ containerId: "c1", execId, process: { Args: ["true"], Cwd: "/" } })
        .catch((err: AgentError) => err),
    );
    const started = performance.now();
    await hostile.health.check({});
    expect(performance.now() - started).toBeLessThan(50);
    // Each exec was checked (not denied: the whole id does not match) and went on to the handler.
    for (const outcome of await Promise.all(execs))
      expect(outcome).not.toMatchObject({ code: Code.PermissionDenied });
    // And a matching id is denied.
    const denied = await rpcError(
      hostile.agent.execProcess({ containerId: "c1", execId: "aaaa", process: { Args: ["true"], Cwd: "/" } }),
    );
    expect(denied.code).toBe(Code.PermissionDenied);
  });

  it("refuses, when loaded, a pattern that cannot run in linear time, naming the rule", async () => {
    const backref = await rpcError(
      hostile.agent.setPolicy({
        policy: JSON.stringify({
          version: 1,
          default: "allow",
          rules: [
            { name: "echo", rpcs: ["ExecProcess"], effect: "deny", when: { exec_id: { regex: "(a)\\1" } } },
          ],
        }),
      }),
    );
    expect(backref.code).toBe(Code.InvalidArgument);
    expect(backref.message).toMatch(/rule "echo"|rules\[0\]/);
    expect(backref.message).toMatch(
      /invalid regex "\(a\)\\\\1".*no backreferences or lookaround.*the current policy stays in force$/,
    );
  });
});
