// Stage: the agent's start-up snapshot, made by the guest's own node inside the root (chroot):
// node runs the agent's snapshot entry (kata-agent-snapshot.cjs, which loads all of the agent's
// code and its protobuf descriptors) and writes the heap to kata-agent.blob. At boot the guest's
// node starts from that blob instead of reading, compiling and running the agent's code (and,
// for a node built without a snapshot of its own, such as Debian's, its own bootstrap).
//
// Node aborts on a blob made by another node build or with other V8 flags, so the blob is made
// with the flags the wrapper (/usr/bin/kata-agent) starts node with, proved to start the agent
// here, and a stamp records what it was made from: node and every library it loads, the flags,
// the bundle's entry, the blob itself. The wrapper asks kata-agent-snapshot-check whether the
// stamp still holds and loads the agent from its bundle otherwise, so a stale or damaged blob
// costs the speed-up, never the agent.
//
// A node that can (20.12 and later) leaves out the code cache of its own built-in modules: node
// keeps a blob in memory for the life of the process, and that cache is half of it (about 3 MB
// of the agent's idle anonymous memory); the modules the agent uses are in the snapshot's heap
// anyway, compiled, and the few it loads later compile from node's own sources.
import { existsSync } from "node:fs";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { With } from "../context.js";
import { elfInRoot, libraryClosure } from "../formats/shared-libraries.js";
import { runInRoot } from "../tools/chroot.js";
import { check } from "../tools/run.js";
import { BuildError } from "../util/errors.js";
import { sha256File } from "../util/manifest.js";
import { AGENT_DIR_IN_ROOT } from "../util/paths.js";
import { type HashKind, sampleHash } from "../util/sample-hash.js";

export const SNAPSHOT_FILES = {
  /** The snapshot's entry script; needed only to make the blob, removed afterwards. */
  entry: `${AGENT_DIR_IN_ROOT}/kata-agent-snapshot.cjs`,
  /** node's --build-snapshot-config for that entry, likewise. */
  config: `${AGENT_DIR_IN_ROOT}/kata-agent-snapshot.json`,
  blob: `${AGENT_DIR_IN_ROOT}/kata-agent.blob`,
  stamp: `${AGENT_DIR_IN_ROOT}/kata-agent.blob.stamp`,
  bundle: `${AGENT_DIR_IN_ROOT}/kata-agent.mjs`,
  wrapper: "/usr/bin/kata-agent",
  node: "/usr/bin/node",
} as const;

const MACHINE_OF_ARCH: Record<string, number> = { x64: 62, arm64: 183 };

/** Without a snapshot the entry it would be made from has no use in the guest. */
export async function removeSnapshotEntry(ctx: With<"root">): Promise<void> {
  await rm(join(ctx.root, SNAPSHOT_FILES.entry), { force: true });
}

/** Whether this node (`v20.12.0`) can make a snapshot without its built-ins' code cache. */
export function canOmitCodeCache(nodeVersion: string): boolean {
  const [major = 0, minor = 0] = nodeVersion.replace(/^v/, "").split(".").map(Number);
  return major > 21 || (major === 21 && minor >= 6) || (major === 20 && minor >= 12);
}

/**
 * node's arguments that make the blob (after the wrapper's flags), and the config file's text
 * when one is needed; paths as node sees them.
 */
export function snapshotBuildArgs(
  nodeVersion: string,
  files: { entry: string; blob: string; config: string },
): { args: string[]; config?: string } {
  if (!canOmitCodeCache(nodeVersion)) {
    return { args: ["--snapshot-blob", files.blob, "--build-snapshot", files.entry] };
  }
  return {
    args: ["--snapshot-blob", files.blob, "--build-snapshot-config", files.config],
    config: `${JSON.stringify({ builder: files.entry, withoutCodeCache: true })}\n`,
  };
}

/** The node flags the wrapper starts the agent with: its NODE_FLAGS="..." line. */
export function wrapperNodeFlags(wrapper: string): string[] | undefined {
  const line = /^NODE_FLAGS="([^"]*)"\s*$/m.exec(wrapper);
  return line ? line[1]!.split(/\s+/).filter(Boolean) : undefined;
}

export async function makeAgentSnapshot(ctx: With<"root">): Promise<void> {
  const { root } = ctx;
  const host = (path: string) => join(root, path);
  const skip = async (why: string) => {
    await rm(host(SNAPSHOT_FILES.entry), { force: true });
    ctx.manifest.snapshot = { made: false, why };
    ctx.progress.info(`no start-up snapshot (${why}); the agent loads from its bundle`);
  };
  if (!existsSync(host(SNAPSHOT_FILES.entry))) return skip("the agent bundle has no snapshot entry");
  const flags = wrapperNodeFlags(await readFile(host(SNAPSHOT_FILES.wrapper), "utf8").catch(() => ""));
  if (!flags) return skip(`${SNAPSHOT_FILES.wrapper} has no NODE_FLAGS line`);
  const node = await elfInRoot(root, SNAPSHOT_FILES.node);
  if (!node) return skip(`${SNAPSHOT_FILES.node} is not an ELF program`);
  if (node.machine !== MACHINE_OF_ARCH[process.arch]) {
    return skip("the guest's node is for another architecture than this machine");
  }
  if (process.getuid?.() !== 0) return skip("running the guest's node in its root (chroot) needs root");

  const cancel = ctx.signal ? { cancelSignal: ctx.signal } : {};
  const nodeVersion = check(
    await runInRoot(root, [SNAPSHOT_FILES.node, "--version"], "ask the guest's node its version", {
      timeout: 60_000,
      ...cancel,
    }),
    "the guest's node does not run",
  ).stdout.trim();
  const build = snapshotBuildArgs(nodeVersion, SNAPSHOT_FILES);
  if (build.config) await writeFile(host(SNAPSHOT_FILES.config), build.config);
  const started = performance.now();
  try {
    check(
      await runInRoot(
        root,
        [SNAPSHOT_FILES.node, ...flags, ...build.args],
        "make the agent's start-up snapshot with the guest's node",
        { timeout: 300_000, ...cancel },
      ),
      "making the agent's start-up snapshot failed",
    );
  } finally {
    await rm(host(SNAPSHOT_FILES.config), { force: true });
  }
  const madeMs = performance.now() - started;
  // A blob that does not start the agent must not ship.
  const version = await runInRoot(
    root,
    [SNAPSHOT_FILES.node, ...flags, "--snapshot-blob", SNAPSHOT_FILES.blob, "--", "--version"],
    "start the agent from its snapshot",
    { timeout: 120_000, ...cancel },
  );
  if (!version.ok || !version.stdout.startsWith("kata-agent ")) {
    await rm(host(SNAPSHOT_FILES.blob), { force: true });
    throw new BuildError(
      `the agent's start-up snapshot does not start the agent (exit ${version.exitCode ?? "by signal"}): ${(version.stderr || version.stdout).trim().slice(-2000)}`,
      "this is a bug in the agent's snapshot entry (agent/src/kata-agent-snapshot.ts); rebuild with `npm run build`",
    );
  }

  const closure = await libraryClosure(root, [SNAPSHOT_FILES.node]);
  if (closure.missing.length) {
    throw new BuildError(`the guest's node lacks shared libraries: ${closure.missing.join(", ")}`);
  }
  const lines = ["kata-agent-snapshot 1", `flags ${flags.join(" ")}`];
  const add = async (kind: HashKind, path: string) => {
    const { size, hash } = await sampleHash(host(path), kind);
    lines.push(`${kind} ${size} ${hash} ${path}`);
  };
  await add("full", SNAPSHOT_FILES.blob);
  await add("full", SNAPSHOT_FILES.bundle);
  await add("sample", SNAPSHOT_FILES.node);
  for (const library of [...closure.opened].filter((p) => p !== SNAPSHOT_FILES.node).sort()) {
    await add("sample", library);
  }
  await writeFile(host(SNAPSHOT_FILES.stamp), `${lines.join("\n")}\n`);
  await rm(host(SNAPSHOT_FILES.entry), { force: true });

  const blobBytes = (await stat(host(SNAPSHOT_FILES.blob))).size;
  ctx.manifest.snapshot = {
    made: true,
    node: version.stdout.trim(),
    nodeFlags: flags,
    builtinsCodeCache: build.config === undefined,
    blob: {
      path: SNAPSHOT_FILES.blob,
      bytes: blobBytes,
      sha256: await sha256File(host(SNAPSHOT_FILES.blob)),
    },
    stampedFiles: lines.length - 2,
  };
  ctx.progress.info(
    `start-up snapshot ${(blobBytes / 1e6).toFixed(1)} MB made by the guest's node in ${(madeMs / 1000).toFixed(1)} s (${version.stdout.trim()})`,
  );
}
