// PolicyManager: holds the agent policy in force and checks every AgentService call against it
// (as a router interceptor) before the handler runs. Without a policy every request is allowed.
import { readFile } from "node:fs/promises";
import type { DescMessage, Message } from "@bufbuild/protobuf";
import { DeniedError, InvalidInputError, RuntimeFailure } from "../core/domain-error.js";
import type { Interceptor } from "../core/router.js";
import type { Logger } from "../log.js";
import { PolicyError } from "./errors.js";
import { policyInput } from "./input.js";
import { type Decision, Policy } from "./policy.js";
import { loadRegexEngine, mentionsRegex } from "./regex.js";

const AGENT_SERVICE = "grpc.AgentService";

export class PolicyManager {
  private current: Policy | undefined;
  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log.child({ subsystem: "policy" });
  }

  /** The policy at `path` (agent.policy_file); throws PolicyError naming the file if it cannot be used. */
  async loadFile(path: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      throw new PolicyError(`cannot read the policy file ${path}: ${(err as Error).message}`);
    }
    if (mentionsRegex(text)) await loadRegexEngine();
    try {
      this.install(Policy.parse(text), path);
    } catch (err) {
      if (err instanceof PolicyError) throw new PolicyError(`${path}: ${err.message}`);
      throw err;
    }
  }

  /** SetPolicy: replaces the whole policy, or keeps the current one and refuses with INVALID_ARGUMENT. */
  async replace(text: string): Promise<void> {
    if (mentionsRegex(text)) await loadRegexEngine();
    let next: Policy;
    try {
      next = Policy.parse(text);
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      throw new InvalidInputError(`SetPolicy: ${err.message}; the current policy stays in force`, {
        cause: err,
      });
    }
    this.install(next, "SetPolicy");
  }

  get active(): boolean {
    return this.current !== undefined;
  }

  /** The decision for one call; always allowed when no policy is loaded. */
  check(method: string, input: DescMessage, request: Message): Decision & { enforced: boolean } {
    const policy = this.current;
    if (!policy) return { allowed: true, reason: "no policy is loaded", enforced: false };
    return { ...policy.decide(method, () => policyInput(method, input, request)), enforced: policy.enforce };
  }

  /** Refuses denied AgentService calls with PERMISSION_DENIED "<Request> is blocked by policy: <reason>". */
  interceptor(): Interceptor {
    return async ({ route, request, ctx }, next) => {
      if (route.service !== AGENT_SERVICE || !this.current) return next();
      let decision: ReturnType<PolicyManager["check"]>;
      try {
        decision = this.check(route.method, route.input, request);
      } catch (err) {
        // An engine fault is not a denial (upstream answers INTERNAL too).
        throw new RuntimeFailure(
          `policy evaluation of ${route.input.name} failed: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
      const fields = {
        rpc: route.method,
        allowed: decision.allowed,
        rule: decision.rule,
        reason: decision.reason,
      };
      if (decision.allowed) {
        ctx.log.debug("policy allows request", fields);
        return next();
      }
      if (!decision.enforced) {
        ctx.log.warn("policy would block request; allowed because the policy sets enforce = false", fields);
        return next();
      }
      ctx.log.debug("policy blocks request", fields);
      throw new DeniedError(`${route.input.name} is blocked by policy: ${decision.reason}`);
    };
  }

  private install(policy: Policy, source: string): void {
    this.current = policy;
    this.log.info("agent policy loaded", {
      source,
      sha256: policy.sha256,
      rules: policy.ruleCount,
      default: policy.defaultEffect,
      enforce: policy.enforce,
    });
  }
}
