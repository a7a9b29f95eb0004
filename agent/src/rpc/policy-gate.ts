// The agent policy's place in front of every AgentService call, without its engine: the engine
// (and with it the AgentService descriptors it checks rules against) loads only when a policy is
// configured or SetPolicy arrives. Until then every call passes, as with no policy loaded.
import type { Interceptor } from "../core/router.js";
import type { Logger } from "../log.js";
import type { PolicyManager } from "../policy/manager.js";

export class PolicyGate {
  private loading: Promise<PolicyManager> | undefined;
  private loaded: PolicyManager | undefined;

  constructor(private readonly log: Logger) {}

  /** The policy manager, its code loaded on first use. */
  manager(): Promise<PolicyManager> {
    this.loading ??= import("../policy/manager.js").then(({ PolicyManager }) => {
      this.loaded = new PolicyManager(this.log);
      return this.loaded;
    });
    return this.loading;
  }

  interceptor(): Interceptor {
    let inner: Interceptor | undefined;
    return (call, next) => {
      if (!this.loaded) return next();
      inner ??= this.loaded.interceptor();
      return inner(call, next);
    };
  }
}
