// The builder's layers import one way:
//   kata-build.ts → cli.ts → commands/ → api/ → boot/ → pipelines/ → stages/ → context.ts
//   → distro/, kernel/ → workspace/ → tools/ → formats/ → util/
// api/ is the library (kata-guest-toolkit/builder): the commands are thin layers over it.
// Stages never import a pipeline or one another, formats are pure TypeScript (they never run a
// program), util never reaches up into tools, only tools/ start programs, and nothing below
// the CLI imports commands/. The agent is reached only through its public faces. This test
// reads every import and fails on one that points the wrong way.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const repo = fileURLToPath(new URL("../../..", import.meta.url));
const src = path.join(repo, "builder", "src");

/** Layer -> the layers its files may import (a layer may always import itself). */
const ALLOWED: Record<string, string[]> = {
  util: [],
  formats: ["util"],
  tools: ["formats", "util"],
  workspace: ["tools", "util"],
  distro: ["workspace", "tools", "formats", "util"],
  kernel: ["workspace", "tools", "formats", "util"],
  "context.ts": ["distro", "kernel", "workspace", "util"],
  stages: ["context.ts", "distro", "kernel", "workspace", "tools", "formats", "util"],
  pipelines: ["stages", "context.ts", "distro", "kernel", "workspace", "tools", "formats", "util"],
  boot: ["pipelines", "context.ts", "distro", "kernel", "workspace", "tools", "formats", "util"],
  api: ["boot", "pipelines", "context.ts", "distro", "kernel", "workspace", "tools", "formats", "util"],
  // A command is a thin layer over its library function.
  commands: ["api", "util"],
  "cli.ts": ["commands", "api", "util"],
  "kata-build.ts": ["cli.ts"],
};

/** Modules that start programs: only tools/ may import them. */
const RUNS_PROGRAMS = ["execa", "node:child_process", "child_process"];

/** The agent's public faces, and which builder layers may use each. */
const AGENT_FACES: { prefix: string; layers: string[] }[] = [
  { prefix: "agent/src/client/", layers: ["boot", "api"] },
  { prefix: "agent/gen/", layers: ["boot", "api"] },
  { prefix: "agent/src/tools/run.js", layers: ["tools"] },
  // The command-line pieces every bin shares (exit codes, suggestions, colour).
  { prefix: "agent/src/cli/", layers: ["util", "api", "commands", "cli.ts"] },
  // The agent's settings and their loader: runtime-config checks agent parameters with them.
  { prefix: "agent/src/config/", layers: ["api"] },
  // The toolkit's own package.json: its version.
  { prefix: "package.json", layers: ["util"] },
];

/** One import: the importing file (relative to builder/src) and what it names. */
interface Import {
  file: string;
  /** A path relative to builder/src for the builder's own modules, relative to the repository
   * for other files (agent/...), or the bare specifier of a package. */
  target: string;
  kind: "builder" | "outside" | "package";
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(path.join(dir, e.name))
      : e.name.endsWith(".ts")
        ? [path.join(dir, e.name)]
        : [],
  );
}

/** Every import of a file: static, type-only, re-exports and dynamic import(). */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, "utf8");
  const rel = path.relative(src, file);
  return [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*"([^"]+)"/g)].map((m): Import => {
    const spec = m[1]!;
    if (!spec.startsWith(".")) return { file: rel, target: spec, kind: "package" };
    const resolved = path.resolve(path.dirname(file), spec);
    const inBuilder = path.relative(src, resolved);
    if (!inBuilder.startsWith("..")) return { file: rel, target: inBuilder, kind: "builder" };
    return { file: rel, target: path.relative(repo, resolved), kind: "outside" };
  });
}

/** The layer of a path inside builder/src: its top directory, or the file itself (as .ts). */
function layerOf(rel: string): string {
  const top = rel.split(path.sep)[0]!;
  return top.replace(/\.js$/, ".ts");
}

/** What is wrong with one import, or undefined. */
function violation(i: Import): string | undefined {
  const from = layerOf(i.file);
  const where = `${i.file} imports ${i.target}`;
  if (i.kind === "package") {
    if (RUNS_PROGRAMS.includes(i.target) && from !== "tools") {
      return `${where}: only tools/ start programs (one module per program)`;
    }
    return undefined;
  }
  if (i.kind === "outside") {
    const face = AGENT_FACES.find((f) => i.target.startsWith(f.prefix));
    if (face?.layers.includes(from)) return undefined;
    return `${where}: the builder reaches the agent only through ${AGENT_FACES.map((f) => f.prefix).join(", ")}`;
  }
  const to = layerOf(i.target);
  if (from === "stages" && to === "stages") {
    return `${where}: stages do not import one another (move what they share below them)`;
  }
  if (to === from) return undefined;
  const allowed = ALLOWED[from];
  if (!allowed) return `${where}: ${from} is not a known layer (add it to ALLOWED)`;
  if (!allowed.includes(to)) return `${where}: ${from} may import only ${allowed.join(", ") || "itself"}`;
  return undefined;
}

const all = sources(src).flatMap(importsOf);

describe("builder layering", () => {
  it("has no import pointing up a layer, across stages, or into agent internals", () => {
    expect(all.map(violation).filter(Boolean)).toEqual([]);
  });

  it("keeps the Kconfig engine self-contained", () => {
    const outside = all.filter(
      (i) =>
        i.file.startsWith(`kernel${path.sep}kconfig${path.sep}`) &&
        !(i.kind === "package" && i.target.startsWith("node:")) &&
        !(i.kind === "builder" && i.target.startsWith(`kernel${path.sep}kconfig${path.sep}`)),
    );
    expect(outside.map((i) => `${i.file} imports ${i.target}`)).toEqual([]);
  });

  it("is the tree README.md's folder map shows, and the table knows every layer", () => {
    const readme = readFileSync(path.join(repo, "README.md"), "utf8");
    const map = /```\nbuilder\/src\/\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    const named = [...map.matchAll(/^ {2}([^\s,]+(?:, [^\s,]+)*)/gm)].flatMap((m) =>
      m[1]!.split(", ").map((n) => n.replace(/\/$/, "")),
    );
    const top = readdirSync(src).sort();
    expect(named.sort()).toEqual(top);
    expect(Object.keys(ALLOWED).sort()).toEqual(top);
  });

  it("would notice a violation (the check sees the imports it is meant to check)", () => {
    // The real tree has the imports the rules are about...
    expect(all.some((i) => i.file.startsWith("pipelines") && layerOf(i.target) === "stages")).toBe(true);
    expect(all.some((i) => i.file.startsWith("stages") && layerOf(i.target) === "context.ts")).toBe(true);
    expect(all.some((i) => i.file.startsWith("tools") && i.target === "execa")).toBe(true);
    // ...and each rule rejects the import it forbids.
    const bad: Import[] = [
      { file: "stages/make-disk.ts", target: "pipelines/image.js", kind: "builder" },
      { file: "stages/make-disk.ts", target: "stages/make-verity.js", kind: "builder" },
      { file: "formats/tar.ts", target: "tools/zstd.js", kind: "builder" },
      { file: "formats/tar.ts", target: "execa", kind: "package" },
      { file: "util/mounts.ts", target: "tools/umount.js", kind: "builder" },
      { file: "util/mounts.ts", target: "node:child_process", kind: "package" },
      { file: "tools/make.ts", target: "stages/make-kernel.js", kind: "builder" },
      { file: "tools/make.ts", target: "pipelines/kernel.js", kind: "builder" },
      { file: "pipelines/image.ts", target: "commands/image.js", kind: "builder" },
      { file: "boot/index.ts", target: "commands/boot.js", kind: "builder" },
      { file: "commands/image.ts", target: "pipelines/image.js", kind: "builder" },
      { file: "boot/index.ts", target: "agent/src/containers/manager.js", kind: "outside" },
      { file: "stages/install-agent.ts", target: "agent/src/client/index.js", kind: "outside" },
    ];
    for (const i of bad) expect(violation(i), `${i.file} -> ${i.target}`).toBeDefined();
  });
});
