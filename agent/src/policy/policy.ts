// A loaded agent policy: rules in order, the first whose RPC list and conditions match decides;
// when none does, the policy's default decides. See README.md in this directory for the language.

import { parse as parseToml } from "smol-toml";
import { AgentService } from "../../gen/agent_pb.js";
import { sha256Hex } from "../util/hash.js";
import { PolicyError } from "./errors.js";
import { inputType } from "./input.js";
import { isObject, type Json, show } from "./json.js";
import { type Check, compileFields } from "./matcher.js";
import { anyType } from "./schema.js";

/** Reported in Health.Version's features. */
export const POLICY_ENGINE = "kata-rules/1";

/** As upstream's limit on a policy file. */
export const MAX_POLICY_BYTES = 16 * 1024 * 1024;

type Effect = "allow" | "deny";

interface Rule {
  name: string;
  effect: Effect;
  reason?: string;
  /** Conditions per method (each method's input has its own shape); absent: always matches. */
  when?: ReadonlyMap<string, Check>;
}

export interface Decision {
  allowed: boolean;
  /** The rule that decided; absent when the default did. */
  rule?: string;
  /** Why, naming the rule and the fields it looked at. */
  reason: string;
}

/** Method name and request type ("ExecProcess", "ExecProcessRequest") → the method names they mean. */
const methodsByName = new Map<string, string[]>();
for (const method of AgentService.methods) {
  methodsByName.set(method.name, [method.name]);
  methodsByName.set(method.input.name, [...(methodsByName.get(method.input.name) ?? []), method.name]);
}
const inputOf = new Map(AgentService.methods.map((m) => [m.name, m.input]));

export class Policy {
  private constructor(
    readonly defaultEffect: Effect,
    /** false: denials are logged and the request goes ahead (upstream's AllowRequestsFailingPolicy). */
    readonly enforce: boolean,
    private readonly rulesByMethod: ReadonlyMap<string, readonly Rule[]>,
    readonly ruleCount: number,
    readonly sha256: string,
  ) {}

  /** Parses and checks a policy document (JSON or TOML); throws PolicyError naming what is wrong. */
  static parse(text: string): Policy {
    if (Buffer.byteLength(text) > MAX_POLICY_BYTES) {
      throw new PolicyError(`the policy is larger than ${MAX_POLICY_BYTES} bytes`);
    }
    const doc = parseDocument(text);
    const known = ["version", "default", "enforce", "description", "rules"];
    for (const key of Object.keys(doc)) {
      if (!known.includes(key))
        throw new PolicyError(`unknown top-level key "${key}"; the keys are ${known.join(", ")}`);
    }
    if (doc.version !== 1) throw new PolicyError(`"version" must be 1, not ${show(doc.version)}`);
    if (doc.default !== "allow" && doc.default !== "deny") {
      throw new PolicyError(`"default" must be "allow" or "deny", not ${show(doc.default)}`);
    }
    if (doc.enforce !== undefined && typeof doc.enforce !== "boolean") {
      throw new PolicyError(`"enforce" must be true or false`);
    }
    const rulesSpec = doc.rules ?? [];
    if (!Array.isArray(rulesSpec)) throw new PolicyError(`"rules" must be a list`);
    const byMethod = new Map<string, Rule[]>();
    const names = new Set<string>();
    rulesSpec.forEach((spec, index) => {
      const { rule, methods } = compileRule(spec, index);
      if (names.has(rule.name))
        throw new PolicyError(`rules[${index}]: a rule named "${rule.name}" already exists`);
      names.add(rule.name);
      for (const method of methods) byMethod.set(method, [...(byMethod.get(method) ?? []), rule]);
    });
    const sha256 = sha256Hex(text);
    return new Policy(doc.default, doc.enforce ?? true, byMethod, rulesSpec.length, sha256);
  }

  /** Decides a call to `method` ("ExecProcess"); `input` is computed only if a rule needs it. */
  decide(method: string, input: () => Json): Decision {
    let value: Json | undefined;
    const misses: string[] = [];
    for (const rule of this.rulesByMethod.get(method) ?? []) {
      const check = rule.when?.get(method);
      if (check) value ??= input();
      const outcome = check?.(value as Json, []);
      if (outcome && !outcome.ok) {
        if (rule.effect === "allow") misses.push(`rule "${rule.name}" did not match: ${outcome.detail}`);
        continue;
      }
      const because = outcome ? outcome.detail : `it applies to every ${method} request`;
      if (rule.effect === "allow")
        return { allowed: true, rule: rule.name, reason: `rule "${rule.name}" allows it: ${because}` };
      return {
        allowed: false,
        rule: rule.name,
        reason: `rule "${rule.name}" denies it: ${because}${rule.reason ? ` (${rule.reason})` : ""}`,
      };
    }
    if (this.defaultEffect === "allow")
      return { allowed: true, reason: "no rule matched and the default is allow" };
    const tried =
      misses.length > 0 ? `; ${misses.slice(0, 3).join("; ")}${misses.length > 3 ? "; …" : ""}` : "";
    return { allowed: false, reason: `no rule allows ${method} and the policy's default is deny${tried}` };
  }
}

function parseDocument(text: string): { [key: string]: Json } {
  const trimmed = text.trimStart();
  if (trimmed === "") throw new PolicyError("the policy is empty");
  if (/^package\s/m.test(text) && !trimmed.startsWith("{")) {
    throw new PolicyError(
      "this is a Rego policy; this agent does not evaluate Rego. Send a kata-rules document " +
        '(JSON or TOML: {"version": 1, "default": "allow", "rules": [...]})',
    );
  }
  let doc: unknown;
  if (trimmed.startsWith("{")) {
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new PolicyError(`the policy is not valid JSON: ${(err as Error).message}`);
    }
  } else {
    try {
      // Through JSON so TOML dates become strings and everything is plain data.
      doc = JSON.parse(JSON.stringify(parseToml(text)));
    } catch (err) {
      throw new PolicyError(
        `the policy is neither JSON nor valid TOML: ${(err as Error).message.split("\n")[0]}`,
      );
    }
  }
  if (!isObject(doc))
    throw new PolicyError("the policy must be an object (a JSON object or a TOML document)");
  return doc;
}

function compileRule(spec: Json, index: number): { rule: Rule; methods: string[] } {
  if (!isObject(spec)) throw new PolicyError(`rules[${index}] must be an object`);
  const name = spec.name;
  if (typeof name !== "string" || name === "" || name.length > 100) {
    throw new PolicyError(`rules[${index}] needs a "name" (1-100 characters) to be named in decisions`);
  }
  const where = `rule "${name}"`;
  const known = ["name", "rpcs", "effect", "when", "reason", "description"];
  for (const key of Object.keys(spec)) {
    if (!known.includes(key))
      throw new PolicyError(`${where}: unknown key "${key}"; the keys are ${known.join(", ")}`);
  }
  if (spec.effect !== "allow" && spec.effect !== "deny") {
    throw new PolicyError(`${where}: "effect" must be "allow" or "deny", not ${show(spec.effect)}`);
  }
  if (spec.reason !== undefined && typeof spec.reason !== "string")
    throw new PolicyError(`${where}: "reason" must be a string`);
  const { methods, wildcard } = resolveRpcs(spec.rpcs, where);
  const rule: Rule = { name, effect: spec.effect, ...(spec.reason ? { reason: spec.reason } : {}) };
  if (spec.when !== undefined) {
    const when = new Map<string, Check>();
    for (const method of methods) {
      // A "*" rule's fields cannot be checked against every request type; they match what exists.
      const type = wildcard ? anyType : inputType(method, inputOf.get(method)!);
      when.set(method, compileFields(spec.when, `${where} (${method}) when`, type));
    }
    rule.when = when;
  }
  return { rule, methods };
}

function resolveRpcs(spec: Json | undefined, where: string): { methods: string[]; wildcard: boolean } {
  const list = typeof spec === "string" ? [spec] : spec;
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === "string")) {
    throw new PolicyError(
      `${where}: "rpcs" must list RPC names ("ExecProcess" or "ExecProcessRequest"), or be "*"`,
    );
  }
  const methods = new Set<string>();
  let wildcard = false;
  for (const name of list as string[]) {
    if (name === "*") {
      for (const method of AgentService.methods) methods.add(method.name);
      wildcard = true;
      continue;
    }
    const found = methodsByName.get(name);
    if (!found) {
      const near = [...methodsByName.keys()].find((k) => k.toLowerCase() === name.toLowerCase());
      throw new PolicyError(
        `${where}: unknown RPC "${name}"` +
          (near ? `; did you mean "${near}"?` : "; use grpc.AgentService method names such as ExecProcess"),
      );
    }
    for (const method of found) methods.add(method);
  }
  return { methods: [...methods], wildcard };
}
