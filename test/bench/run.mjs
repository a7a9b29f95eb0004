#!/usr/bin/env node
// `npm run bench`: bundles the TypeScript bench (test/bench/main.ts) and runs it.
// Usage: npm run bench -- [--only SECTION[,SECTION]] [--json FILE] [--quick]

import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
// Same depth as the sources, so their import.meta.url-relative paths still resolve.
const out = join(here, ".bench.mjs");
await build({
  entryPoints: [join(here, "main.ts")],
  outfile: out,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  logLevel: "warning",
});
const { main } = await import(pathToFileURL(out).href);
process.exitCode = await main(process.argv.slice(2));
