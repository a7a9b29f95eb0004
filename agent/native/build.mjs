#!/usr/bin/env node
// Builds kata_native.node from kata_native.c with the system C compiler and Node's own headers,
// and kata-agent-snapshot-check (a plain program) from snapshot_check.c.
// No node-gyp: the addon is one C file against node_api.h, and npm does not run install scripts.
//   node agent/native/build.mjs [--force] [--out-dir DIR]
//   import { buildNative } from "./build.mjs"; await buildNative({ outDir })
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, "kata_native.c");
export const defaultOutDir = join(here, "build");
export const addonFileName = "kata_native.node";
const snapshotCheckSource = join(here, "snapshot_check.c");
export const snapshotCheckFileName = "kata-agent-snapshot-check";

/** The directory holding node_api.h: the running Node's own headers first, then Debian's. */
export function nodeIncludeDir() {
  const candidates = [resolve(dirname(process.execPath), "..", "include", "node"), "/usr/include/node"];
  const found = candidates.find((dir) => existsSync(join(dir, "node_api.h")));
  if (found === undefined) {
    throw new Error(
      `node_api.h not found in ${candidates.join(" or ")}; install Node's headers ` +
        "(Debian: apt-get install libnode-dev, or use a Node tarball, which ships include/node)",
    );
  }
  return found;
}

/**
 * Compiles the addon into `outDir` unless the output is newer than the source.
 * Returns the path of the .node file and whether it was (re)built.
 * @param {{ outDir?: string, force?: boolean, cc?: string }} [options]
 * @returns {Promise<{ path: string, built: boolean }>}
 */
export async function buildNative({ outDir = defaultOutDir, force = false, cc = "cc" } = {}) {
  return compile({
    source,
    output: join(outDir, addonFileName),
    args: ["-O2", "-fPIC", "-shared", "-Wall", "-Wextra", "-Werror", `-I${nodeIncludeDir()}`],
    force,
    cc,
  });
}

/**
 * Compiles kata-agent-snapshot-check (the guest's test whether the agent's start-up snapshot
 * still matches its node) into `outDir`, like buildNative.
 * @param {{ outDir?: string, force?: boolean, cc?: string }} [options]
 * @returns {Promise<{ path: string, built: boolean }>}
 */
export async function buildSnapshotCheck({ outDir = defaultOutDir, force = false, cc = "cc" } = {}) {
  return compile({
    source: snapshotCheckSource,
    output: join(outDir, snapshotCheckFileName),
    args: ["-O2", "-Wall", "-Wextra", "-Werror"],
    force,
    cc,
  });
}

async function compile({ source, output, args: flags, force, cc }) {
  const [src, out] = await Promise.all([stat(source), stat(output).catch(() => undefined)]);
  if (!force && out !== undefined && out.mtimeMs > src.mtimeMs) return { path: output, built: false };

  await mkdir(dirname(output), { recursive: true });
  // Compile to a private name and rename, so a concurrent loader never sees a half-written file.
  const partial = `${output}.${process.pid}.tmp`;
  const args = [...flags, "-o", partial, source];
  try {
    await promisify(execFile)(cc, args);
  } catch (error) {
    await rm(partial, { force: true });
    throw compileError(cc, args, error);
  }
  await rename(partial, output);
  return { path: output, built: true };
}

function compileError(cc, args, error) {
  if (error?.code === "ENOENT") {
    return new Error(
      `C compiler '${cc}' not found: install Debian's build-essential package (apt-get install build-essential)`,
      { cause: error },
    );
  }
  const stderr = String(error?.stderr ?? "").trim();
  return new Error(`${cc} ${args.join(" ")} failed:\n${stderr || error?.message}`, { cause: error });
}

async function main(argv) {
  const outIndex = argv.indexOf("--out-dir");
  const outDir = outIndex >= 0 ? resolve(argv[outIndex + 1] ?? ".") : defaultOutDir;
  for (const build of [buildNative, buildSnapshotCheck]) {
    const { path, built } = await build({ outDir, force: argv.includes("--force") });
    console.log(built ? `built ${path}` : `${path} is up to date`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`build:native: ${error.message}`);
    process.exitCode = 1;
  });
}
