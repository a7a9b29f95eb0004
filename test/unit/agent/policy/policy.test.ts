import { create } from "@bufbuild/protobuf";
import { beforeAll, describe, expect, it } from "vitest";
import {
  CopyFileRequestSchema,
  ExecProcessRequestSchema,
  ReadStreamRequestSchema,
} from "../../../../agent/gen/agent_pb.js";
import { policyInput } from "../../../../agent/src/policy/input.js";
import type { Json } from "../../../../agent/src/policy/json.js";
import { Policy } from "../../../../agent/src/policy/policy.js";
import { loadRegexEngine } from "../../../../agent/src/policy/regex.js";

beforeAll(loadRegexEngine);

const exec = (args: string[], extra: Record<string, unknown> = {}) =>
  policyInput(
    "ExecProcess",
    ExecProcessRequestSchema,
    create(ExecProcessRequestSchema, { containerId: "c1", execId: "e1", process: { Args: args, ...extra } }),
  );

const decide = (policy: Policy, method: string, input: Json) => policy.decide(method, () => input);

const denyShell = JSON.stringify({
  version: 1,
  default: "allow",
  rules: [
    {
      name: "no-shell",
      rpcs: ["ExecProcess"],
      effect: "deny",
      when: { "process.Args.0": { in: ["sh", "/bin/sh", "bash"] } },
      reason: "no interactive shells in this pod",
    },
  ],
});

describe("policy decisions", () => {
  it("denies by the first matching rule, naming it, the field and its value", () => {
    const policy = Policy.parse(denyShell);
    expect(decide(policy, "ExecProcess", exec(["sh", "-c", "id"]))).toEqual({
      allowed: false,
      rule: "no-shell",
      reason:
        'rule "no-shell" denies it: process.Args[0] is "sh", one of ["sh","/bin/sh","bash"] (no interactive shells in this pod)',
    });
    expect(decide(policy, "ExecProcess", exec(["echo", "hi"]))).toEqual({
      allowed: true,
      reason: "no rule matched and the default is allow",
    });
    expect(decide(policy, "GetGuestDetails", {}).allowed).toBe(true);
  });

  it("with default deny, says which allow rules were tried and where each failed", () => {
    const policy = Policy.parse(
      JSON.stringify({
        version: 1,
        default: "deny",
        rules: [
          {
            name: "allow-echo",
            rpcs: "ExecProcess",
            effect: "allow",
            when: { "process.Args": { each: { regex: "[a-z]+" } }, "process.User.UID": { equals: 0 } },
          },
          { name: "allow-reads", rpcs: ["ReadStreamRequest"], effect: "allow" },
        ],
      }),
    );
    const root = { User: { UID: 0 } };
    expect(decide(policy, "ExecProcess", exec(["echo", "hi"], root)).allowed).toBe(true);
    // An unset message field is absent, as in upstream's input (null there).
    expect(decide(policy, "ExecProcess", exec(["echo", "hi"])).reason).toContain(
      "process.User.UID is absent, not 0",
    );
    expect(decide(policy, "ExecProcess", exec(["echo", "Hi!"], root))).toEqual({
      allowed: false,
      reason:
        'no rule allows ExecProcess and the policy\'s default is deny; rule "allow-echo" did not match: ' +
        'process.Args[1] is "Hi!", which does not match /[a-z]+/',
    });
    expect(decide(policy, "ExecProcess", exec(["id"], { User: { UID: 1000 } })).reason).toContain(
      "process.User.UID is 1000, not 0",
    );
    // A request type names every method that takes it.
    const read = policyInput(
      "ReadStdout",
      ReadStreamRequestSchema,
      create(ReadStreamRequestSchema, { len: 10 }),
    );
    expect(decide(policy, "ReadStdout", read)).toMatchObject({ allowed: true, rule: "allow-reads" });
    expect(decide(policy, "ReadStderr", read).allowed).toBe(true);
    expect(decide(policy, "CreateContainer", {}).reason).toBe(
      "no rule allows CreateContainer and the policy's default is deny",
    );
  });

  it("evaluates every matcher, and compares 64-bit fields (JSON strings) with numbers", () => {
    const rule = (when: unknown) =>
      Policy.parse(
        JSON.stringify({
          version: 1,
          default: "allow",
          rules: [{ name: "r", rpcs: ["ExecProcess"], effect: "deny", when }],
        }),
      );
    const input = exec(["/usr/bin/python3", "-c", "print(1)"], {
      Env: ["A=1", "SECRET=x"],
      OOMScoreAdj: 500n,
      User: { UID: 0 },
    });
    const denied = (when: unknown) => !decide(rule(when), "ExecProcess", input).allowed;
    expect(denied({ "process.OOMScoreAdj": { equals: 500 } })).toBe(true);
    expect(denied({ "process.OOMScoreAdj": { min: 0, max: 999 } })).toBe(true);
    expect(denied({ "process.OOMScoreAdj": { max: 100 } })).toBe(false);
    expect(denied({ "process.Args.0": { prefix: "/usr/", suffix: "3", contains: "python" } })).toBe(true);
    expect(denied({ "process.Env": { some: { prefix: "SECRET=" } } })).toBe(true);
    expect(denied({ "process.Env": { each: { prefix: "SECRET=" } } })).toBe(false);
    expect(denied({ "process.Env": { length: { min: 3 } } })).toBe(false);
    expect(denied({ "process.Args.5": { exists: false }, "process.Args.2": { exists: true } })).toBe(true);
    expect(denied({ "process.Cwd": { not: { equals: "/" } } })).toBe(true);
    expect(denied({ exec_id: { any_of: [{ equals: "x" }, { regex: "e[0-9]" }] } })).toBe(true);
    expect(denied({ "": { fields: { container_id: { equals: "c1" } } } })).toBe(true);
    expect(denied({ "process.User": { fields: { UID: { equals: 0 } } } })).toBe(true);
  });

  it('lets upstream-style request type names and "*" select RPCs, and enforce = false only warns', () => {
    const policy = Policy.parse(`
version = 1
default = "deny"
enforce = false

[[rules]]
name = "everything-but-exec"
rpcs = "*"
effect = "allow"
when = { container_id = { not = { equals = "c1" } } }
`);
    expect(policy.enforce).toBe(false);
    expect(decide(policy, "GetGuestDetails", {}).allowed).toBe(true);
    expect(decide(policy, "ExecProcess", exec(["id"])).reason).toContain(
      'did not match: container_id equals "c1"',
    );
  });

  it("sees CopyFile pre-processed: kind of file and symlink target, never the data", () => {
    const req = create(CopyFileRequestSchema, {
      path: "/run/kata-containers/shared/containers/x/link",
      fileMode: 0o120777,
      fileSize: 5n,
      data: new TextEncoder().encode("/etc/"),
    });
    const input = policyInput("CopyFile", CopyFileRequestSchema, req);
    expect(input).toEqual({
      path: "/run/kata-containers/shared/containers/x/link",
      file_size: "5",
      file_mode: 0o120777,
      dir_mode: 0,
      uid: 0,
      gid: 0,
      offset: "0",
      file_type: "symlink",
      symlink_target: "/etc/",
    });
    const policy = Policy.parse(
      JSON.stringify({
        version: 1,
        default: "allow",
        rules: [
          {
            name: "no-etc-links",
            rpcs: ["CopyFile"],
            effect: "deny",
            when: { symlink_target: { prefix: "/etc" } },
          },
        ],
      }),
    );
    expect(decide(policy, "CopyFile", input).allowed).toBe(false);
  });
});

describe("policy loading refuses what would not work, saying where", () => {
  const refuse = (doc: unknown) => () => Policy.parse(typeof doc === "string" ? doc : JSON.stringify(doc));
  const base = { version: 1, default: "allow" };

  it.each([
    ["", /the policy is empty/],
    [
      "package agent_policy\ndefault ExecProcessRequest := false\n",
      /this is a Rego policy; this agent does not evaluate Rego/,
    ],
    ["{ not json", /not valid JSON/],
    ['version = 1\ndefault = "allow"\nrules = [ {', /neither JSON nor valid TOML/],
    [{ default: "allow" }, /"version" must be 1/],
    [{ version: 1 }, /"default" must be "allow" or "deny"/],
    [{ ...base, rulez: [] }, /unknown top-level key "rulez"/],
    [{ ...base, rules: [{ rpcs: ["ExecProcess"], effect: "deny" }] }, /rules\[0\] needs a "name"/],
    [
      { ...base, rules: [{ name: "a", rpcs: ["ExecProces"], effect: "deny" }] },
      /rule "a": unknown RPC "ExecProces"/,
    ],
    [
      { ...base, rules: [{ name: "a", rpcs: ["execprocess"], effect: "deny" }] },
      /did you mean "ExecProcess"\?/,
    ],
    [
      { ...base, rules: [{ name: "a", rpcs: ["ExecProcess"], effect: "block" }] },
      /"effect" must be "allow" or "deny"/,
    ],
    [
      {
        ...base,
        rules: [
          { name: "a", rpcs: ["ExecProcess"], effect: "deny", when: { "process.args": { equals: [] } } },
        ],
      },
      /rule "a" \(ExecProcess\) when: "process.args": process \(grpc.Process\) has no field "args"; did you mean "Args"\?/,
    ],
    [
      {
        ...base,
        rules: [
          { name: "a", rpcs: ["ExecProcess"], effect: "deny", when: { "process.Args": { prefix: "sh" } } },
        ],
      },
      /"prefix" compares a single value, but this is a list of string; use \{"some": \{"prefix": \.\.\.\}\}/,
    ],
    [
      {
        ...base,
        rules: [{ name: "a", rpcs: ["ExecProcess"], effect: "deny", when: { exec_id: { equal: "x" } } }],
      },
      /unknown matcher "equal"; the matchers are equals, in,/,
    ],
    [
      {
        ...base,
        rules: [{ name: "a", rpcs: ["ExecProcess"], effect: "deny", when: { exec_id: { regex: "(" } } }],
      },
      /invalid regex "\("/,
    ],
    [
      {
        ...base,
        rules: [
          { name: "a", rpcs: ["ExecProcess"], effect: "deny" },
          { name: "a", rpcs: ["CopyFile"], effect: "deny" },
        ],
      },
      /a rule named "a" already exists/,
    ],
  ])("%#: %s", (doc, message) => {
    expect(refuse(doc)).toThrow(message);
  });
});
