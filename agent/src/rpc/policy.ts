// SetPolicy. The call itself has already been checked against the policy in force by the policy
// interceptor (as upstream checks SetPolicyRequest before replacing the policy).
import type { AgentService } from "../../gen/agent_pb.js";
import type { ServiceImpl } from "../core/router.js";
import type { PolicyManager } from "../policy/manager.js";

export interface PolicyDeps {
  policy: PolicyManager;
}

export function policyHandlers({ policy }: PolicyDeps): Pick<ServiceImpl<typeof AgentService>, "setPolicy"> {
  return {
    setPolicy: async (req) => {
      await policy.replace(req.policy);
      return {};
    },
  };
}
