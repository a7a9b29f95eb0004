#!/usr/bin/env node
// Bundles the agent and its ctl into single files under agent/dist/ (what the guest image
// ships), with the N-API addon copied beside them. Target node18: Debian bookworm's nodejs.
import { copyFileSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, "dist");
rmSync(join(outdir, "chunks"), { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: {
    "kata-agent": join(here, "src/kata-agent.ts"),
    "kata-agent-ctl": join(here, "src/ctl/kata-agent-ctl.ts"),
  },
  outdir,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  // gRPC (grpc-js) goes to its own chunk, loaded only when agent.grpc_addr is set, so the
  // agent never parses or keeps its source otherwise.
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  platform: "node",
  format: "esm",
  target: "node18",
  minifySyntax: true,
  sourcemap: "linked",
  legalComments: "none",
  logLevel: "warning",
  // CommonJS dependencies (grpc-js) call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __kataRequire } from 'node:module'; const require = __kataRequire(import.meta.url);",
  },
});
const addon = join(here, "native/build/kata_native.node");
if (existsSync(addon)) copyFileSync(addon, join(outdir, "kata_native.node"));
