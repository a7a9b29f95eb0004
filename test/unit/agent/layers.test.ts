// The agent's layers import one way: transport -> wire protocols (ttrpc, grpc) -> core ->
// rpc handlers -> managers -> tools and native. The client (client/, and kata-agent-ctl on it)
// stands beside the server: it shares the wire codecs and address parsing, nothing else. This
// test reads every import and fails on one that points the wrong way.
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
  native: ["transport", ...WIRES, "core", "rpc", ...MANAGERS, "config", "tools"],
  core: ["transport", ...WIRES, "rpc", ...MANAGERS, "tools"],
  transport: [...WIRES, "rpc", ...MANAGERS, "tools"],
  ttrpc: ["grpc", "rpc", ...MANAGERS, "tools"],
  grpc: ["ttrpc", "rpc", ...MANAGERS, "tools"],
  rpc: ["transport", ...WIRES, "tools"],
  ...Object.fromEntries(MANAGERS.map((m) => [m, ["rpc", "transport", ...WIRES]])),
  // The debug console stands beside the server: it listens (transport) and reaps its shells
  // (processes), and has nothing to do with the API.
  console: ["rpc", ...WIRES, "core", ...MANAGERS.filter((m) => m !== "processes")],
};

/** Tool modules (one per external program) sit at the bottom, beside native/. */
const TOOLS_MAY_IMPORT = ["core", "util", "native"];

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
const ANYONE = ["core", "util", "native", "tools", "log.ts", "..", "version.ts"];

/** What the client may use of the agent: the generated code, wire codecs, addresses, vsock. */
const CLIENT_MAY_IMPORT = [
  "../gen",
  "core/code.ts",
  "core/error.ts",
  "ttrpc/frame.ts",
  "ttrpc/status.ts",
  "transport/address.ts",
  "native",
];
/** kata-agent-ctl talks to the agent through the client; its bridge also listens like the agent. */
const CTL_MAY_IMPORT = ["client/index.ts", "transport/listen.ts", "cli", "../gen", "version.ts"];

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
    path.relative(src, path.resolve(path.dirname(file), m[1]!)).replace(/\.js$/, ".ts"),
  );
}

/** Imports of the files under `dir` that leave it for anything but the allowed places. */
function importsLeaving(dir: string, allowed: readonly string[]): string[] {
  return sources(path.join(src, dir)).flatMap((file) =>
    importsOf(file)
      .filter(
        (target) =>
          !target.startsWith(`${dir}/`) &&
          !allowed.some((a) => target === a || target.startsWith(`${a}/`) || target.startsWith(`${a}_`)),
      )
      .map((target) => `${path.relative(src, file)} imports ${target}`),
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

  it("keeps tool modules at the bottom, and the shared runner free of the agent", () => {
    expect(importsLeaving("tools", TOOLS_MAY_IMPORT)).toEqual([]);
    // builder/src/tools/run.ts builds on it, so it must not drag the agent into the builder.
    expect(importsOf(path.join(src, "tools/run.ts"))).toEqual([]);
  });

  it("runs external programs only through the tool runner", () => {
    const direct = sources(src).filter(
      (file) =>
        !file.endsWith(path.join("tools", "run.ts")) &&
        /from "execa"|import\("execa"\)/.test(readFileSync(file, "utf8")),
    );
    expect(direct.map((f) => path.relative(src, f))).toEqual([]);
  });

  it("leaves status codes to the wires and the one table in rpc/status-codes.ts", () => {
    // Everything else throws domain errors (core/domain-error.ts) and never picks a code.
    const mayPickCodes = /^(core|ttrpc|grpc|client)\/|^rpc\/status-codes\.ts$/;
    const picking = sources(src)
      .map((file) => path.relative(src, file))
      .filter((file) => !mayPickCodes.test(file) && !file.startsWith("ctl/"))
      .flatMap((file) =>
        importsOf(path.join(src, file))
          .filter((t) => t === "core/code.ts" || t === "core/error.ts")
          .map((t) => `${file} imports ${t}`),
      );
    expect(picking).toEqual([]);
  });

  it("keeps the server away from the client and the ctl", () => {
    const server = sources(src).filter((f) => !/^(client|ctl)\//.test(path.relative(src, f)));
    const reaches = server.flatMap((file) =>
      importsOf(file)
        .filter((t) => /^(client|ctl)\//.test(t))
        .map((t) => `${path.relative(src, file)} imports ${t}`),
    );
    expect(reaches).toEqual([]);
  });

  it("lets the client use only the generated code, wire codecs, addresses and native", () => {
    expect(importsLeaving("client", CLIENT_MAY_IMPORT)).toEqual([]);
  });

  it("keeps the command-line pieces the bins share (cli/) free of the agent", () => {
    // The builder imports them too: they must not drag any of the agent along.
    expect(importsLeaving("cli", [])).toEqual([]);
  });

  it("lets kata-agent-ctl reach the agent only through the client", () => {
    expect(importsLeaving("ctl", CTL_MAY_IMPORT)).toEqual([]);
  });

  it("would notice one (the check sees the imports it is meant to check)", () => {
    const rpcImports = sources(path.join(src, "rpc")).flatMap(importsOf);
    expect(rpcImports.some((t) => t.startsWith("containers"))).toBe(true);
    expect(rpcImports.some((t) => t.startsWith("core"))).toBe(true);
    expect(importsLeaving("client", [])).toContain("client/ttrpc-client.ts imports ttrpc/frame.ts");
  });
});
