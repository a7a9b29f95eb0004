#!/usr/bin/env node
// Bundles kata-build into builder/dist/kata-build.mjs (one file, dependencies inlined), and the
// library the package exports into builder/dist/lib/: kata-guest-toolkit (toolkit.mjs),
// kata-guest-toolkit/builder (builder.mjs) and kata-guest-toolkit/client (client.mjs), sharing
// chunks. @bufbuild/protobuf stays outside the library (a dependency of the package), so the
// messages a program makes with its own copy are the ones the client takes.
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const common = {
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node18",
  logLevel: "warning",
  // CommonJS dependencies inside an ESM bundle still call require().
  banner: {
    js: "import { createRequire as __kataRequire } from 'node:module'; const require = __kataRequire(import.meta.url);",
  },
};

await build({
  ...common,
  entryPoints: { "kata-build": join(here, "src/kata-build.ts") },
  outdir: join(here, "dist"),
  sourcemap: "linked",
});

// Chunk names change with their content: start empty, or old ones would ship too.
const lib = join(here, "dist", "lib");
rmSync(lib, { recursive: true, force: true });
await build({
  ...common,
  entryPoints: {
    toolkit: join(here, "src/api/toolkit.ts"),
    builder: join(here, "src/api/index.ts"),
    client: join(here, "..", "agent/src/client/index.ts"),
  },
  outdir: lib,
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  external: ["@bufbuild/protobuf", "@bufbuild/protobuf/*"],
});
