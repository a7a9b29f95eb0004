// Stage: lay a given Node.js binary into the root as /usr/bin/node, in place of the distribution's
// nodejs package (which the package stage then leaves out, installing the libraries of
// rootfs/<distro>/packages-node.txt instead). Why: start-up under emulation is
// dominated by Node's own bootstrap, and a build with a startup snapshot and code cache (the
// official builds) boots several times faster than one without (Debian's nodejs 18). The binary
// must run the agent bundle and find every shared library it needs inside the root.
import { accessSync, constants, existsSync } from "node:fs";
import { chmod, copyFile, mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { With } from "../context.js";
import { listLibraries, parseLdd } from "../tools/ldd.js";
import { nodeVersion } from "../tools/node.js";
import { describeResult } from "../tools/run.js";
import { BuildError } from "../util/errors.js";
import { hostPath, resolveInRoot } from "../util/in-root.js";
import { sha256File } from "../util/manifest.js";

/** The bundle targets node18 (Debian bookworm's). */
const MIN_NODE_MAJOR = 18;

const MULTIARCH: Record<string, string> = { x64: "x86_64-linux-gnu", arm64: "aarch64-linux-gnu" };

function libraryDirs(): string[] {
  const triplet = MULTIARCH[process.arch] ?? "";
  return [`/lib/${triplet}`, `/usr/lib/${triplet}`, "/lib64", "/usr/lib64", "/lib", "/usr/lib"];
}

async function existsInRoot(root: string, path: string): Promise<boolean> {
  return existsSync(join(root, await resolveInRoot(root, path).catch(() => path)));
}

/** The libraries in ldd's output that the root lacks. */
export async function missingLibraries(root: string, ldd: string): Promise<string[]> {
  const { sonames, loader } = parseLdd(ldd);
  const missing: string[] = [];
  if (loader && !(await existsInRoot(root, loader))) missing.push(loader);
  for (const soname of sonames) {
    let found = false;
    for (const dir of libraryDirs()) {
      if (await existsInRoot(root, `${dir}/${soname}`)) {
        found = true;
        break;
      }
    }
    if (!found) missing.push(soname);
  }
  return missing;
}

/**
 * Checks a --node binary before anything is built: it exists, is executable, runs on this
 * machine and is recent enough. Returns its version.
 */
export async function checkNodeBinary(node: string, signal?: AbortSignal): Promise<string> {
  if (!existsSync(node)) throw new BuildError(`--node ${node}: no such file`);
  try {
    accessSync(node, constants.X_OK);
  } catch {
    throw new BuildError(
      `--node ${node} is not executable`,
      `chmod +x ${node}, or pass the node binary itself`,
    );
  }
  const run = await nodeVersion(node, { cancelSignal: signal });
  if (!run.ok) {
    throw new BuildError(
      `--node ${node} does not run here (${describeResult(run)}): ${run.stderr.trim()}`,
      "pass a Node.js binary for this machine's architecture",
    );
  }
  const version = run.stdout.trim();
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (!(major >= MIN_NODE_MAJOR)) {
    throw new BuildError(
      `--node ${node} is Node.js ${version || "of no known version"}; the agent needs ${MIN_NODE_MAJOR} or later`,
      "pass a newer Node.js binary, or leave --node out to use the distribution's",
    );
  }
  return version;
}

export async function installNode(ctx: With<"root">, input: { binary: string }): Promise<void> {
  const { root } = ctx;
  const node = input.binary;
  const version = await checkNodeBinary(node, ctx.signal);
  const ldd = await listLibraries(node, { cancelSignal: ctx.signal });
  // A static binary makes ldd fail with "not a dynamic executable": nothing to look for.
  const missing = ldd.ok ? await missingLibraries(root, ldd.stdout) : [];
  if (missing.length) {
    throw new BuildError(
      `--node ${node} needs shared libraries the guest does not have: ${missing.join(", ")}`,
      "add the packages that provide them with --package, or use a Node.js build linked against fewer libraries (the official nodejs.org builds need only libc and libstdc++)",
    );
  }
  const dest = await hostPath(root, "/usr/bin/node");
  await mkdir(dirname(dest), { recursive: true });
  // Never write through what is there: /usr/bin/node may be a symlink, even an absolute one.
  await rm(dest, { force: true });
  await copyFile(node, dest);
  await chmod(dest, 0o755);
  ctx.manifest.node = { source: node, version, sha256: await sha256File(node) };
  ctx.progress.info(`Node.js ${version} from ${node}`);
}
