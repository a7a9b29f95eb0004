// The agent's layers import one way: transport -> wire protocols (ttrpc, grpc) -> core ->
// rpc handlers -> managers -> tools and native. This test reads every import and fails on one
// that points the wrong way.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = fileURLToPath(new URL("../../../agent/src", import.meta.url));
const MANAGERS = [
  "containers",
  "processes",
  "runtime",
  "storage",
  "devices",
  "files",
  "network",
  "guest",
  "policy",
  "init",
];
const WIRES = ["ttrpc", "grpc"];

/** Top-level directory (layer) -> layers it must never import. */
const FORBIDDEN: Record<string, string[]> = {
  native: ["transport", ...WIRES, "core", "rpc", ...MANAGERS, "config"],
  core: ["transport", ...WIRES, "rpc", ...MANAGERS],
  transport: [...WIRES, "rpc", ...MANAGERS],
  ttrpc: ["grpc", "rpc", ...MANAGERS],
  grpc: ["ttrpc", "rpc", ...MANAGERS],
  rpc: ["transport", ...WIRES],
  ...Object.fromEntries(MANAGERS.map((m) => [m, ["rpc", "transport", ...WIRES]])),
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(path.join(dir, e.name))
      : e.name.endsWith(".ts")
        ? [path.join(dir, e.name)]
        : [],
  );
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((m) =>
    path.relative(src, path.resolve(path.dirname(file), m[1]!)),
  );
}

describe("agent layering", () => {
  const violations: string[] = [];
  for (const file of sources(src)) {
    const layer = path.relative(src, file).split(path.sep)[0]!;
    const forbidden = FORBIDDEN[layer];
    if (!forbidden) continue;
    for (const target of importsOf(file)) {
      const targetLayer = target.split(path.sep)[0]!;
      if (forbidden.includes(targetLayer)) violations.push(`${path.relative(src, file)} imports ${target}`);
    }
  }

  it("has no import pointing up a layer", () => {
    expect(violations).toEqual([]);
  });

  it("would notice one (the check sees the imports it is meant to check)", () => {
    const rpcImports = sources(path.join(src, "rpc")).flatMap(importsOf);
    expect(rpcImports.some((t) => t.startsWith("containers"))).toBe(true);
    expect(rpcImports.some((t) => t.startsWith("core"))).toBe(true);
  });
});
