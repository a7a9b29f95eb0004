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

/**
 * Managers may use one another only as declared here (plus core/, util/, native/, log.ts and
 * the generated code): containers orchestrate processes, the runtime, storage and devices;
 * network and guest find hot-plugged NICs and swap disks through devices;
 * storage finds devices and shares CopyFile's safe file handling; the rest stand alone.
 */
const MANAGER_DEPS: Record<string, string[]> = {
  containers: ["processes", "runtime", "storage", "devices"],
  processes: ["runtime"],
  storage: ["devices", "files"],
  runtime: [],
  devices: [],
  files: [],
  network: ["devices"],
  guest: ["devices"],
  policy: [],
  init: [],
};
const ANYONE = ["core", "util", "native", "log.js", "..", "version.js"];

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

  it("keeps managers apart except where one is built on another", () => {
    const crossings: string[] = [];
    for (const [manager, deps] of Object.entries(MANAGER_DEPS)) {
      for (const file of sources(path.join(src, manager))) {
        for (const target of importsOf(file)) {
          const targetLayer = target.split(path.sep)[0]!;
          if (targetLayer === manager || ANYONE.includes(targetLayer) || deps.includes(targetLayer)) continue;
          crossings.push(`${path.relative(src, file)} imports ${target}`);
        }
      }
    }
    expect(crossings).toEqual([]);
  });

  it("would notice one (the check sees the imports it is meant to check)", () => {
    const rpcImports = sources(path.join(src, "rpc")).flatMap(importsOf);
    expect(rpcImports.some((t) => t.startsWith("containers"))).toBe(true);
    expect(rpcImports.some((t) => t.startsWith("core"))).toBe(true);
  });
});
