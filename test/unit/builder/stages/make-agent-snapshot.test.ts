import { describe, expect, it } from "vitest";
import { canOmitCodeCache, snapshotBuildArgs } from "../../../../builder/src/stages/make-agent-snapshot.js";

const files = { entry: "/e.cjs", blob: "/b.blob", config: "/c.json" };

describe("the start-up snapshot's node arguments", () => {
  it("leaves out the built-ins' code cache from node 20.12 and 21.6 on", () => {
    for (const v of ["v18.19.0", "v20.11.1", "v21.5.0", "20.0.0"]) expect(canOmitCodeCache(v), v).toBe(false);
    for (const v of ["v20.12.0", "v20.20.2", "v21.6.0", "v22.0.0", "v24.1.0"])
      expect(canOmitCodeCache(v), v).toBe(true);
  });

  it("uses a config file naming the entry when it can, --build-snapshot otherwise", () => {
    expect(snapshotBuildArgs("v20.20.2", files)).toEqual({
      args: ["--snapshot-blob", "/b.blob", "--build-snapshot-config", "/c.json"],
      config: '{"builder":"/e.cjs","withoutCodeCache":true}\n',
    });
    expect(snapshotBuildArgs("v18.19.0", files)).toEqual({
      args: ["--snapshot-blob", "/b.blob", "--build-snapshot", "/e.cjs"],
    });
  });
});
