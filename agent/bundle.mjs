#!/usr/bin/env node
// Bundles the agent and its ctl into agent/dist/ (what the guest image ships), with the N-API
// addon and the snapshot checker (native/) copied beside them. Target node18: Debian bookworm's nodejs.
//  - kata-agent.mjs is code-split: parts needed only later (each RPC group, the service
//    descriptors, gRPC) are chunks in chunks/, loaded on first use, so start-up reads and
//    keeps only what answering Health.Check needs. Each chunk records when it starts
//    evaluating, for the start-up phases of the "agent ready" log line.
//  - kata-agent-snapshot.cjs is the same agent as one CommonJS script, the entry of the
//    start-up snapshot kata-build makes with the guest's own node (a snapshot can hold only a
//    script, and loads nothing with import()).
//  - vendor/: execa, grpc-js and re2js, which both of the above load with require() on first
//    use, so none is in a snapshot (nor shipped twice).
//  - kata-agent-ctl.mjs is one file, built apart so the agent's chunks carry nothing of the
//    ctl's (proto3 JSON and the well-known types it needs).
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { writeInventory } from "./bundle-inventory.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, "dist");
for (const dir of ["chunks", "vendor"]) rmSync(join(outdir, dir), { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });

/**
 * Packages loaded from vendor/ (bundled there on their own) instead of being bundled in: each
 * vendor file, the modules it holds (one bundle, so one instance of each), and the import
 * specifiers the agent uses for them (a deep one too: the gRPC deadline fix patches a grpc-js
 * class, which must be the one the server uses).
 */
const VENDOR_FILES = {
  "execa.cjs": { modules: { "": "execa" } },
  // The policy engine's regular expressions: only a loaded policy needs them.
  "re2js.cjs": { modules: { "": "re2js" } },
  "grpc-js.cjs": {
    modules: { "": "@grpc/grpc-js", serverInterceptors: "@grpc/grpc-js/build/src/server-interceptors.js" },
  },
};
/** Import specifier -> its vendor file and the member holding it ("" for the whole file). */
const VENDORED = Object.fromEntries(
  Object.entries(VENDOR_FILES).flatMap(([file, { modules }]) =>
    Object.entries(modules).map(([member, specifier]) => [specifier, { file, member }]),
  ),
);

/**
 * Resolves a vendored package to a module that requires its vendor/ file when evaluated and
 * exports its names (read from the built file), so `import { execa } from "execa"` works in
 * both the code-split and the snapshot bundle.
 */
const vendorPlugin = {
  name: "kata-vendor",
  setup(b) {
    const escapeRe = (n) => n.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    b.onResolve({ filter: new RegExp(`^(${Object.keys(VENDORED).map(escapeRe).join("|")})$`) }, (args) => ({
      path: args.path,
      namespace: "kata-vendor",
    }));
    b.onLoad({ filter: /.*/, namespace: "kata-vendor" }, (args) => {
      const { file, member } = VENDORED[args.path];
      const whole = createRequire(import.meta.url)(join(outdir, "vendor", file));
      const exported = Object.keys(member ? whole[member] : whole).filter(
        (name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== "default" && name !== "__esModule",
      );
      const access = member ? `[${JSON.stringify(member)}]` : "";
      return {
        contents: [
          `const m = __kataVendor(${JSON.stringify(file)})${access};`,
          `export const { ${exported.join(", ")} } = m;`,
          "export default m;",
        ].join("\n"),
        loader: "js",
      };
    });
  },
};

const common = {
  outdir,
  bundle: true,
  platform: "node",
  target: "node18",
  minifySyntax: true,
  sourcemap: "linked",
  legalComments: "none",
  logLevel: "warning",
};

// CommonJS dependencies call require() and may read __dirname; give the ESM bundle both, and
// find vendor/ from the entry (dist/) or a chunk (dist/chunks/).
const esmBanner = [
  "import { createRequire as __kataRequire } from 'node:module';",
  "import { fileURLToPath as __kataPath } from 'node:url';",
  "const require = __kataRequire(import.meta.url);",
  "const __filename = __kataPath(import.meta.url);",
  "const __dirname = __kataPath(new URL('.', import.meta.url));",
  "const __kataVendor = (name) => require(__kataPath(new URL((import.meta.url.includes('/chunks/') ? '../vendor/' : './vendor/') + name, import.meta.url)));",
  "(globalThis[Symbol.for('kata-agent.chunk-marks')] ??= []).push({ chunk: import.meta.url, at: performance.now() });",
].join(" ");

// The metafiles of what the guest runs (the agent's bundle and vendor/), for the SBOM's inventory.
const shipped = [];
for (const [file, { modules }] of Object.entries(VENDOR_FILES)) {
  // The whole module's names, plus each deeper one as a member.
  const contents = Object.entries(modules)
    .map(([member, specifier]) =>
      member
        ? `module.exports[${JSON.stringify(member)}] = require(${JSON.stringify(specifier)});`
        : `module.exports = { ...require(${JSON.stringify(specifier)}) };`,
    )
    .join("\n");
  const vendor = await build({
    ...common,
    stdin: { contents, resolveDir: here, sourcefile: file.replace(/\.cjs$/, ".js") },
    outfile: join(outdir, "vendor", file),
    outdir: undefined,
    format: "cjs",
    sourcemap: false,
    metafile: true,
  });
  shipped.push(vendor.metafile);
}

const agent = await build({
  ...common,
  entryPoints: { "kata-agent": join(here, "src/kata-agent.ts") },
  format: "esm",
  outExtension: { ".js": ".mjs" },
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  plugins: [vendorPlugin],
  banner: { js: esmBanner },
  metafile: true,
});
shipped.push(agent.metafile);
// The npm packages in what the guest runs, for the image's SBOM (the snapshot's script holds
// the same ones as the code-split bundle).
const pkg = JSON.parse(readFileSync(join(here, "..", "package.json"), "utf8"));
writeInventory(shipped, {
  root: join(here, ".."),
  outFile: join(outdir, "kata-agent.packages.json"),
  agent: { name: "kata-agent", version: pkg.version, license: pkg.license },
});

// In a snapshot the script's path is the one it was built at, which is where the guest runs it.
await build({
  ...common,
  entryPoints: { "kata-agent-snapshot": join(here, "src/kata-agent-snapshot.ts") },
  format: "cjs",
  // The script's text lives on in the snapshot's heap (functions compile from it on first
  // call), and node keeps a copy of the blob: white space is memory twice over.
  minifyWhitespace: true,
  outExtension: { ".js": ".cjs" },
  plugins: [vendorPlugin],
  define: { "import.meta.url": "__kataUrl" },
  banner: {
    js: [
      "var __kataUrl = require('node:url').pathToFileURL(__filename).href;",
      "var __kataVendorRequire = require('node:module').createRequire(__filename);",
      "var __kataVendor = (name) => __kataVendorRequire(require('node:path').join(__dirname, 'vendor', name));",
    ].join(" "),
  },
});

await build({
  ...common,
  entryPoints: { "kata-agent-ctl": join(here, "src/ctl/kata-agent-ctl.ts") },
  format: "esm",
  outExtension: { ".js": ".mjs" },
  splitting: false,
  banner: {
    js: [
      "import { createRequire as __kataRequire } from 'node:module';",
      "import { fileURLToPath as __kataPath } from 'node:url';",
      "const require = __kataRequire(import.meta.url);",
      "const __filename = __kataPath(import.meta.url);",
      "const __dirname = __kataPath(new URL('.', import.meta.url));",
    ].join(" "),
  },
});

for (const file of ["kata_native.node", "kata-agent-snapshot-check"]) {
  const built = join(here, "native/build", file);
  if (existsSync(built)) copyFileSync(built, join(outdir, file));
}
