// Which group each grpc.AgentService method belongs to. A group's code loads on the first call
// of any of its methods (rpc/index.ts); its module implements exactly its list. This file
// imports types only, so knowing the groups loads none of them.
import type { AgentService } from "../../gen/agent_pb.js";
import type { ServiceImpl } from "../core/router.js";

export type AgentImpl = ServiceImpl<typeof AgentService>;
export type AgentMethod = keyof AgentImpl;

export const GROUP_METHODS = {
  containers: [
    "createSandbox",
    "destroySandbox",
    "createContainer",
    "startContainer",
    "removeContainer",
    "pauseContainer",
    "resumeContainer",
    "updateContainer",
    "statsContainer",
    "getOOMEvent",
    "getDiagnosticData",
  ],
  processes: [
    "execProcess",
    "signalProcess",
    "waitProcess",
    "writeStdin",
    "readStdout",
    "readStderr",
    "closeStdin",
    "ttyWinResize",
  ],
  guest: [
    "getGuestDetails",
    "onlineCPUMem",
    "memHotplugByProbe",
    "setGuestDateTime",
    "reseedRandomDev",
    "addSwap",
    "addSwapPath",
    "getMetrics",
    "memAgentMemcgSet",
    "memAgentCompactSet",
  ],
  storage: [
    "copyFile",
    "getVolumeStats",
    "resizeVolume",
    "updateEphemeralMounts",
    "removeStaleVirtiofsShareMounts",
  ],
  network: [
    "updateInterface",
    "updateRoutes",
    "listInterfaces",
    "listRoutes",
    "addARPNeighbors",
    "getIPTables",
    "setIPTables",
  ],
  policy: ["setPolicy"],
} as const satisfies Record<string, readonly AgentMethod[]>;

export type GroupName = keyof typeof GROUP_METHODS;
/** The methods of one group, for its module's handler table. */
export type GroupMethods<G extends GroupName> = (typeof GROUP_METHODS)[G][number];

// Does not compile while a method of grpc.AgentService is in no group (the error names it).
type Ungrouped = Exclude<AgentMethod, GroupMethods<GroupName>>;
const everyMethodGrouped: [Ungrouped] extends [never] ? true : Ungrouped = true;
void everyMethodGrouped;

/** "createSandbox" -> "CreateSandbox": protobuf-es names methods by lowering the first letter. */
export const protoMethodName = (local: string) => local.charAt(0).toUpperCase() + local.slice(1);
