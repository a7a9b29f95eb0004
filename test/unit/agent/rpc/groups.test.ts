// The groups grpc.AgentService's handlers load in: every method in exactly one, named as the
// generated service names it, and each group's module providing exactly its methods (the
// compile-time checks in rpc/methods.ts and rpc/index.ts, seen at run time).
import { describe, expect, it } from "vitest";
import { AgentService } from "../../../../agent/gen/agent_pb.js";
import { AGENT_GROUPS, type AgentDeps } from "../../../../agent/src/rpc/index.js";
import { GROUP_METHODS, protoMethodName } from "../../../../agent/src/rpc/methods.js";

describe("AgentService groups", () => {
  it("put each of the 42 methods in exactly one group, under its generated name", () => {
    const grouped = Object.values(GROUP_METHODS).flat();
    expect(new Set(grouped).size).toBe(grouped.length);
    expect(grouped.map(protoMethodName).sort()).toEqual(AgentService.methods.map((m) => m.name).sort());
    expect(grouped.sort()).toEqual(AgentService.methods.map((m) => m.localName).sort());
  });

  it("load modules whose handler tables have exactly the group's methods", async () => {
    // Managers are only stored by the group modules when they make their tables.
    const manager = async () => ({}) as never;
    const deps = {
      sandbox: manager,
      containers: manager,
      processes: manager,
      guest: manager,
      storage: manager,
      files: manager,
      network: manager,
      policy: { manager },
    } as unknown as AgentDeps;
    for (const [name, group] of Object.entries(AGENT_GROUPS)) {
      const table = await (await group.load()).handlers(deps);
      expect(Object.keys(table).sort(), name).toEqual(
        [...GROUP_METHODS[name as keyof typeof GROUP_METHODS]].sort(),
      );
    }
  });
});
