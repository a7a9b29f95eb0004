// The complete handler table: grpc.Health, registered at start, and every method of
// grpc.AgentService in groups whose code (and the service's descriptors) loads on the first call
// of the group. The groups' method lists (methods.ts) are checked at compile time to cover all 42
// AgentService methods; each group module is checked to implement exactly its list.

import type { DescMessage } from "@bufbuild/protobuf";
import { Health } from "../../gen/health_pb.js";
import type { ContainerService } from "../containers/container-service.js";
import type { ProcessService } from "../containers/process-service.js";
import type { SandboxService } from "../containers/sandbox-service.js";
import { type LazyService, Router, type UnaryHandler } from "../core/router.js";
import type { FileService } from "../files/index.js";
import type { GuestManager } from "../guest/manager.js";
import type { NetworkManager } from "../network/index.js";
import type { StorageManager } from "../storage/index.js";
import { type HealthDeps, healthHandlers } from "./health.js";
import {
  type AgentImpl,
  type AgentMethod,
  GROUP_METHODS,
  type GroupMethods,
  type GroupName,
  protoMethodName,
} from "./methods.js";
import type { PolicyGate } from "./policy-gate.js";
import { statusCodes } from "./status-codes.js";

/** The managers behind the handlers, each made (and its code loaded) when first asked for. */
export interface AgentDeps extends HealthDeps {
  sandbox(): Promise<SandboxService>;
  containers(): Promise<ContainerService>;
  processes(): Promise<ProcessService>;
  guest(): Promise<GuestManager>;
  storage(): Promise<StorageManager>;
  files(): Promise<FileService>;
  network(): Promise<NetworkManager>;
  policy: PolicyGate;
}

/** A group module: its handlers, made once from the deps when the group is first called. */
export interface GroupModule<M extends AgentMethod> {
  handlers(deps: AgentDeps): Promise<Pick<AgentImpl, M>>;
}

/** Any group, as the router sees it. */
interface AnyGroup {
  readonly methods: readonly AgentMethod[];
  readonly load: () => Promise<{ handlers(deps: AgentDeps): Promise<Partial<AgentImpl>> }>;
}

/** A group: its methods, and its module, checked to implement exactly them. */
const group = <G extends GroupName>(
  name: G,
  load: () => Promise<GroupModule<GroupMethods<G>>>,
): AnyGroup => ({ methods: GROUP_METHODS[name], load });

/** Each group's code is a chunk of its own in the bundle. */
export const AGENT_GROUPS: Readonly<Record<GroupName, AnyGroup>> = {
  containers: group("containers", () => import("./containers.js")),
  processes: group("processes", () => import("./processes.js")),
  guest: group("guest", () => import("./guest.js")),
  storage: group("storage", () => import("./storage.js")),
  network: group("network", () => import("./network.js")),
  policy: group("policy", () => import("./policy.js")),
};

/** Told when a group has loaded for its first call: the group and the method that asked. */
export type OnGroupLoaded = (group: string, method: string, ms: number) => void;

/** grpc.AgentService with each group's code loaded on the group's first call. */
export function lazyAgentService(deps: AgentDeps, onLoaded?: OnGroupLoaded): LazyService {
  const handlers = new Map<string, () => Promise<UnaryHandler<DescMessage, DescMessage>>>();
  for (const [group, { methods, load }] of Object.entries(AGENT_GROUPS)) {
    let table: Promise<Partial<AgentImpl>> | undefined;
    const loadTable = (method: string) => {
      const started = performance.now();
      table ??= load()
        .then((module) => module.handlers(deps))
        .then(
          (loaded) => {
            onLoaded?.(group, method, performance.now() - started);
            return loaded;
          },
          (err: unknown) => {
            table = undefined;
            throw err;
          },
        );
      return table;
    };
    for (const method of methods) {
      if (handlers.has(protoMethodName(method)))
        throw new Error(`AgentService method ${method} is in two groups`);
      handlers.set(protoMethodName(method), async () => {
        const handler = (await loadTable(protoMethodName(method)))[method] as
          | UnaryHandler<DescMessage, DescMessage>
          | undefined;
        if (!handler) throw new Error(`the ${method} group module has no handler for it`);
        return handler;
      });
    }
  }
  return {
    typeName: "grpc.AgentService",
    descriptor: async () => (await import("../../gen/agent_pb.js")).AgentService,
    handlers,
  };
}

/** Loads every group's code and the service descriptors (a start-up snapshot takes them in). */
export async function loadAllGroups(): Promise<void> {
  await Promise.all([import("../../gen/agent_pb.js"), ...Object.values(AGENT_GROUPS).map((g) => g.load())]);
}

export function buildRouter(deps: AgentDeps, onGroupLoaded?: OnGroupLoaded): Router {
  // Outermost, the status codes: whatever a handler or the policy throws leaves with the code
  // its RPC answers. Then the agent policy sees every AgentService call before its handler
  // (Health is never checked).
  return new Router()
    .use(statusCodes())
    .use(deps.policy.interceptor())
    .register(Health, healthHandlers(deps))
    .registerLazy(lazyAgentService(deps, onGroupLoaded));
}
