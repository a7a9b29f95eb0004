#!/usr/bin/env node
// Bundles the agent and its ctl into agent/dist/ (what the guest image ships), with the N-API
// addon copied beside them. Target node18: Debian bookworm's nodejs.
//  - kata-agent.mjs is code-split: parts needed only later (gRPC, execa) are chunks in
//    chunks/, loaded on first use, so start-up parses and keeps only what serving needs.
//  - kata-agent-ctl.mjs is one file, built apart so the agent's chunks carry nothing of the
//    ctl's (proto3 JSON and the well-known types it needs).
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { writeInventory } from "./bundle-inventory.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, "dist");
rmSync(join(outdir, "chunks"), { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });

const common = {
  outdir,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node18",
  minifySyntax: true,
  sourcemap: "linked",
  legalComments: "none",
  logLevel: "warning",
  // CommonJS dependencies (grpc-js) call require() and may read __dirname; give the ESM
  // bundle both.
  banner: {
    js: [
      "import { createRequire as __kataRequire } from 'node:module';",
      "import { fileURLToPath as __kataPath } from 'node:url';",
      "const require = __kataRequire(import.meta.url);",
      "const __filename = __kataPath(import.meta.url);",
      "const __dirname = __kataPath(new URL('.', import.meta.url));",
    ].join(" "),
  },
};

const agent = await build({
  ...common,
  entryPoints: { "kata-agent": join(here, "src/kata-agent.ts") },
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  metafile: true,
});
// The npm packages in what the guest runs, for the image's SBOM.
const pkg = JSON.parse(readFileSync(join(here, "..", "package.json"), "utf8"));
writeInventory([agent.metafile], {
  root: join(here, ".."),
  outFile: join(outdir, "kata-agent.packages.json"),
  agent: { name: "kata-agent", version: pkg.version, license: pkg.license },
});
await build({
  ...common,
  entryPoints: { "kata-agent-ctl": join(here, "src/ctl/kata-agent-ctl.ts") },
  splitting: false,
});

const addon = join(here, "native/build/kata_native.node");
if (existsSync(addon)) copyFileSync(addon, join(outdir, "kata_native.node"));
