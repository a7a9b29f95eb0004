#!/usr/bin/env node
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// Bundles kata-build into builder/dist/kata-build.mjs (one file, dependencies inlined).
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
await build({
  entryPoints: { "kata-build": join(here, "src/kata-build.ts") },
  outdir: join(here, "dist"),
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node18",
  sourcemap: "linked",
  logLevel: "warning",
  // CommonJS dependencies inside an ESM bundle still call require().
  banner: {
    js: "import { createRequire as __kataRequire } from 'node:module'; const require = __kataRequire(import.meta.url);",
  },
});
