// Stage (agent-as-init guests only): keep what the guest runs and nothing else. The boot reads
// every byte of an initrd (the kernel unpacks all of it, under emulation at some 20 MB/s) and
// dm-verity hashes what it reads of an image, so a guest without systemd keeps only the agent,
// the node that runs it, the OCI runtimes, the programs the agent runs and what those read:
// rootfs/common/agent-init-keep.txt (and rootfs/<distro>/agent-init-keep.txt), plus, for each
// program and library kept, the loader and the shared libraries it needs (a closure computed
// from the ELF files themselves, so the list names programs, never libraries). The files of
// packages named with --package and paths given with --keep stay too. Device nodes (/dev),
// the directories at the top of the tree (mount points among them) and symlinks to kept
// directories (/lib -> usr/lib) are left alone.
import { lstat, readdir, readFile, rm, rmdir } from "node:fs/promises";
import { join, posix } from "node:path";
import type { With } from "../context.js";
import { parseList } from "../distro/package-lists.js";
import { elfInRoot, libraryClosure, pathChain } from "../formats/shared-libraries.js";
import { resolveInRoot } from "../util/in-root.js";
import { expandPattern } from "../util/patterns.js";

export interface PruneInput {
  /** Packages installed on request (--package): their files are kept. */
  packages: readonly string[];
  /** Paths kept on request (--keep), with what they need. */
  keep: readonly string[];
  /** --keep-package-db: the package database stays. */
  keepPackageDb: boolean;
}

/** Top-level directories whose contents are never pruned (device nodes, kernel filesystems). */
const UNTOUCHED = ["/dev", "/proc", "/sys"];

async function readOptional(path: string): Promise<string[]> {
  return parseList(await readFile(path, "utf8").catch(() => ""));
}

/** The interpreter a script names on its #! line (an in-root path), if it is a script. */
async function interpreterOf(root: string, path: string): Promise<string | undefined> {
  const file = join(root, await resolveInRoot(root, path));
  const head = await readFile(file).then(
    (b) => b.subarray(0, 256).toString("latin1"),
    () => "",
  );
  if (!head.startsWith("#!")) return undefined;
  return head.slice(2).split("\n")[0]!.trim().split(/\s+/)[0];
}

/** Every file below `dir` (in-root paths), symlinks included, not following them. */
async function filesBelow(root: string, dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, dir), { withFileTypes: true }).catch(() => [])) {
    const path = posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesBelow(root, path)));
    else out.push(path);
  }
  return out;
}

export async function pruneAgentInit(
  ctx: With<"data" | "root" | "distro" | "init">,
  input: PruneInput,
): Promise<void> {
  if (ctx.init !== "agent") return;
  const { root } = ctx;
  const patterns = [
    ...(await readOptional(join(ctx.data, "common", "agent-init-keep.txt"))),
    ...(await readOptional(join(ctx.data, ctx.distro.name, "agent-init-keep.txt"))),
    ...input.keep.map((p) => p.replace(/^\/+/, "")),
    ...(input.keepPackageDb ? ctx.distro.packageDbPaths : []),
  ];
  const named: string[] = [];
  for (const pattern of patterns) named.push(...(await expandPattern(root, pattern)));
  // A package's list names its directories too (/, /usr, /bin -> usr/bin, ...): only its files
  // are kept.
  for (const path of await ctx.distro.packageFiles(root, input.packages)) {
    const real = await resolveInRoot(root, path).catch(() => undefined);
    const st = real === undefined ? undefined : await lstat(join(root, real)).catch(() => undefined);
    if (st && !st.isDirectory()) named.push(path);
  }

  // Everything named, with the symlinks on the way; directories with all they hold.
  const keep = new Set<string>();
  const candidates: string[] = [];
  for (const path of named) {
    const chain = await pathChain(root, path);
    const real = chain.at(-1)!;
    const st = await lstat(join(root, real)).catch(() => undefined);
    if (!st) continue;
    for (const p of chain) keep.add(p);
    if (st.isDirectory()) {
      keep.add(real);
      for (const file of await filesBelow(root, real)) {
        for (const p of await pathChain(root, file)) keep.add(p);
        candidates.push(file);
      }
    } else candidates.push(real);
  }
  // What the kept programs and libraries load, and the interpreters of kept scripts.
  const programs: string[] = [];
  for (const path of candidates) {
    if (await elfInRoot(root, path)) programs.push(path);
    else {
      const interpreter = await interpreterOf(root, path);
      if (interpreter) programs.push(interpreter);
    }
  }
  const closure = await libraryClosure(root, programs);
  for (const p of closure.files) keep.add(p);

  const removed = { files: 0, bytes: 0 };
  const prune = async (dir: string, depth: number): Promise<boolean> => {
    let empty = true;
    for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
      const path = posix.join(dir, entry.name);
      if (UNTOUCHED.includes(path)) {
        empty = false;
        continue;
      }
      if (entry.isDirectory()) {
        const emptied = await prune(path, depth + 1);
        // Directories at the top stay (mount points, /root, /var): only deeper ones go.
        if (emptied && depth >= 1 && !keep.has(path)) await rmdir(join(root, path));
        else empty = false;
        continue;
      }
      if (keep.has(path) || (entry.isSymbolicLink() && (await isDirectory(root, path)))) {
        empty = false;
        continue;
      }
      const st = await lstat(join(root, path));
      removed.files++;
      removed.bytes += st.isFile() ? st.size : 0;
      await rm(join(root, path));
    }
    return empty;
  };
  await prune("/", 0);

  ctx.manifest.prune = {
    kept: keep.size,
    removedFiles: removed.files,
    removedBytes: removed.bytes,
    missingLibraries: closure.missing,
  };
  ctx.progress.info(
    `kept ${keep.size} paths for the agent, its node, the OCI runtimes and their tools; removed ${removed.files} files (${(removed.bytes / 1048576).toFixed(1)} MiB)`,
  );
  if (closure.missing.length) {
    ctx.progress.info(`libraries not found in the root: ${closure.missing.join(", ")}`);
  }
}

/** Whether an in-root symlink leads to a directory (kept: /lib -> usr/lib and the like). */
async function isDirectory(root: string, path: string): Promise<boolean> {
  const resolved = await resolveInRoot(root, path).catch(() => undefined);
  if (!resolved) return false;
  return (await lstat(join(root, resolved)).catch(() => undefined))?.isDirectory() ?? false;
}
