// The storage-side managers sit below the RPC layer: nothing in storage/, devices/ or files/ may
// import rpc/, ttrpc/, grpc/ or transport/, and files/ and devices/ do not depend on storage/.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../../helpers/agent.js";

const src = join(repoRoot, "agent/src");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Top-level agent/src directories a file imports from (relative imports only). */
function importedLayers(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/from\s+"(\.[^"]+)"/g)].map((m) => {
    const target = relative(src, resolve(join(file, ".."), m[1]!));
    return target.split("/")[0]!;
  });
}

describe("storage layering", () => {
  const forbidden: Record<string, string[]> = {
    storage: ["rpc", "ttrpc", "grpc", "transport", "server.ts"],
    devices: ["rpc", "ttrpc", "grpc", "transport", "server.ts", "storage", "files"],
    files: ["rpc", "ttrpc", "grpc", "transport", "server.ts", "storage", "devices"],
  };
  it("sees the imports it checks (storage uses devices/ and files/)", () => {
    const layers = new Set(sources(join(src, "storage")).flatMap(importedLayers));
    expect([...layers]).toEqual(expect.arrayContaining(["devices", "files", "core", "native"]));
  });
  for (const [layer, banned] of Object.entries(forbidden)) {
    it(`${layer}/ imports nothing from ${banned.join(", ")}`, () => {
      const offending = sources(join(src, layer)).flatMap((file) =>
        importedLayers(file)
          .filter((l) => banned.includes(l))
          .map((l) => `${relative(src, file)} -> ${l}`),
      );
      expect(offending).toEqual([]);
    });
  }
});
