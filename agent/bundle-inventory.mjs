// What esbuild put into a bundle from npm: every package with at least one byte in the output
// (its metafile says which inputs contributed), with the name, version and licence from that
// package's own package.json. Written beside the bundle for kata-build's SBOM, so the image's
// SBOM lists the agent and everything bundled into it without node_modules at hand.
//   import { writeInventory } from "./bundle-inventory.mjs";
//   await writeInventory([result.metafile], { root, outFile, agent: { name, version, license } });
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** node_modules/a/node_modules/@s/b/lib/x.js -> node_modules/a/node_modules/@s/b */
const PACKAGE_DIR = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//;

/** An SPDX licence expression from package.json's "license" (or the old "licenses" list). */
function licenceOf(pkg) {
  if (typeof pkg.license === "string") return pkg.license;
  if (pkg.license && typeof pkg.license.type === "string") return pkg.license.type;
  if (Array.isArray(pkg.licenses)) {
    const types = pkg.licenses.map((l) => (typeof l === "string" ? l : l?.type)).filter(Boolean);
    if (types.length) return types.length === 1 ? types[0] : `(${types.join(" OR ")})`;
  }
  return "NOASSERTION";
}

/**
 * @param {import("esbuild").Metafile[]} metafiles
 * @param {{ root: string, outFile: string, agent: { name: string, version: string, license: string } }} options
 */
export function writeInventory(metafiles, { root, outFile, agent }) {
  const dirs = new Set();
  for (const metafile of metafiles) {
    for (const output of Object.values(metafile.outputs)) {
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
        const dir = bytesInOutput > 0 ? PACKAGE_DIR.exec(input)?.[1] : undefined;
        if (dir) dirs.add(dir);
      }
    }
  }
  const packages = [...dirs]
    .map((dir) => {
      const pkg = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"));
      return { name: pkg.name, version: pkg.version, license: licenceOf(pkg), path: dir };
    })
    .sort((a, b) => (a.name === b.name ? (a.version < b.version ? -1 : 1) : a.name < b.name ? -1 : 1));
  writeFileSync(outFile, `${JSON.stringify({ schema: 1, agent, packages }, null, 2)}\n`);
  return packages;
}
