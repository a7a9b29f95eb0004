// SetPolicy. The call itself has already been checked against the policy in force by the policy
// interceptor (as upstream checks SetPolicyRequest before replacing the policy).
import type { AgentDeps } from "./index.js";
import type { AgentImpl, GroupMethods } from "./methods.js";

export async function handlers(deps: AgentDeps): Promise<Pick<AgentImpl, GroupMethods<"policy">>> {
  return {
    setPolicy: async (req) => {
      await (await deps.policy.manager()).replace(req.policy);
      return {};
    },
  };
}
