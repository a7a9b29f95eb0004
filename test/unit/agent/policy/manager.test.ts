import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { afterAll, describe, expect, it } from "vitest";
import {
  AgentService,
  ExecProcessRequestSchema,
  SetPolicyRequestSchema,
} from "../../../../agent/gen/agent_pb.js";
import { CheckRequestSchema, Health } from "../../../../agent/gen/health_pb.js";
import type { HandlerContext } from "../../../../agent/src/core/context.js";
import { Router } from "../../../../agent/src/core/router.js";
import { Logger } from "../../../../agent/src/log.js";
import { PolicyManager } from "../../../../agent/src/policy/manager.js";

const dir = mkdtempSync(join(tmpdir(), "kata-policy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines: Record<string, unknown>[] = [];
const log = Logger.create("debug", (line) => lines.push(JSON.parse(line) as Record<string, unknown>));

function setup() {
  const policy = new PolicyManager(log);
  const calls: string[] = [];
  const router = new Router()
    .use(policy.interceptor())
    .register(Health, { check: async () => ({}), version: async () => ({}) })
    .register(AgentService, {
      execProcess: async (req) => {
        calls.push(`exec ${req.process?.Args.join(" ")}`);
        return {};
      },
      setPolicy: async (req) => {
        await policy.replace(req.policy);
        calls.push("setPolicy");
        return {};
      },
    });
  const ctx: HandlerContext = { method: "", signal: new AbortController().signal, metadata: new Map(), log };
  const call = (
    service: string,
    method: string,
    request: Parameters<ReturnType<typeof router.routes>[number]["handle"]>[0],
  ) => {
    const found = router.lookup(service, method);
    if (!("route" in found)) throw new Error("no route");
    return found.route.handle(request, ctx);
  };
  const exec = (...args: string[]) =>
    call("grpc.AgentService", "ExecProcess", create(ExecProcessRequestSchema, { process: { Args: args } }));
  const setPolicy = (text: string) =>
    call("grpc.AgentService", "SetPolicy", create(SetPolicyRequestSchema, { policy: text }));
  return { policy, calls, call, exec, setPolicy };
}

const DENY_ID = JSON.stringify({
  version: 1,
  default: "allow",
  rules: [
    { name: "no-id", rpcs: ["ExecProcess"], effect: "deny", when: { "process.Args": { equals: ["id"] } } },
  ],
});

describe("PolicyManager", () => {
  it("allows everything while no policy is loaded", async () => {
    const t = setup();
    await t.exec("id");
    expect(t.calls).toEqual(["exec id"]);
    expect(t.policy.active).toBe(false);
  });

  it("refuses denied calls before the handler runs, and logs the decision", async () => {
    const t = setup();
    await t.policy.replace(DENY_ID);
    await expect(t.exec("id")).rejects.toMatchObject({
      kind: "denied",
      message: 'ExecProcessRequest is blocked by policy: rule "no-id" denies it: process.Args equals ["id"]',
    });
    await t.exec("true");
    expect(t.calls).toEqual(["exec true"]);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "debug",
        msg: "policy blocks request",
        rpc: "ExecProcess",
        rule: "no-id",
      }),
    );
  });

  it("never checks grpc.Health", async () => {
    const t = setup();
    await t.policy.replace(JSON.stringify({ version: 1, default: "deny" }));
    await expect(t.call("grpc.Health", "Check", create(CheckRequestSchema))).resolves.toBeDefined();
    await expect(t.exec("true")).rejects.toMatchObject({ kind: "denied" });
  });

  it("checks SetPolicy against the policy in force, and keeps it when the new one is bad", async () => {
    const t = setup();
    await t.policy.replace(
      JSON.stringify({
        version: 1,
        default: "allow",
        rules: [
          { name: "frozen", rpcs: ["SetPolicy"], effect: "deny", when: { policy: { contains: '"allow"' } } },
          ...JSON.parse(DENY_ID).rules,
        ],
      }),
    );
    await expect(t.setPolicy(JSON.stringify({ version: 1, default: "allow" }))).rejects.toMatchObject({
      kind: "denied",
      message: expect.stringMatching(
        /^SetPolicyRequest is blocked by policy: rule "frozen" denies it: policy /,
      ),
    });
    await expect(t.setPolicy("version = 1\ndefault = 'sometimes'")).rejects.toMatchObject({
      kind: "invalid-input",
      message: expect.stringMatching(
        /^SetPolicy: "default" must be "allow" or "deny".*; the current policy stays in force$/,
      ),
    });
    await expect(t.exec("id")).rejects.toMatchObject({ kind: "denied" });
    await t.setPolicy(
      "version = 1\ndefault = 'deny'\n[[rules]]\nname = 'exec-only'\nrpcs = ['ExecProcess']\neffect = 'allow'\n",
    );
    await t.exec("id");
    expect(t.calls).toEqual(["setPolicy", "exec id"]);
  });

  it("with enforce = false, lets denied calls through with a warning", async () => {
    const t = setup();
    await t.policy.replace(JSON.stringify({ version: 1, default: "deny", enforce: false }));
    await t.exec("id");
    expect(t.calls).toEqual(["exec id"]);
    expect(lines).toContainEqual(expect.objectContaining({ level: "warn", rpc: "ExecProcess" }));
  });

  it("loads a policy file, and names the file when it is unusable", async () => {
    const t = setup();
    const good = join(dir, "good.json");
    writeFileSync(good, DENY_ID);
    await t.policy.loadFile(good);
    expect(t.policy.active).toBe(true);
    const bad = join(dir, "bad.rego");
    writeFileSync(bad, "package agent_policy\n");
    await expect(t.policy.loadFile(bad)).rejects.toThrow(`${bad}: this is a Rego policy`);
    await expect(t.policy.loadFile(join(dir, "missing"))).rejects.toThrow(
      /cannot read the policy file .*missing: ENOENT/,
    );
  });
});
