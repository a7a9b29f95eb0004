// Stage: a kernel tree to build from. Tarballs are unpacked once into
// <cache>/kernel/sources/<sha256>/ (into a temporary directory renamed into place, under a
// lock, so concurrent builds share one extraction); trees given by path are used in place but
// must be clean, because we build out of tree (O=).
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { With } from "../context.js";
import { cacheLayout, withLock } from "../kernel/cache.js";
import type { KernelSource, KernelTree } from "../kernel/types.js";
import { describeResult } from "../tools/run.js";
import { untar } from "../tools/untar.js";
import { BuildError } from "../util/errors.js";
import { trackTemporary, untrackTemporary } from "../workspace/atomic.js";

const TREE_MARKER = "tree";

export async function unpackKernelSource(
  ctx: With<"cache">,
  input: { source: KernelSource },
): Promise<KernelTree> {
  const { source } = input;
  const { sources } = cacheLayout(ctx.cache);
  if (source.kind === "tree") {
    checkKernelTree(source.path);
    if (existsSync(join(source.path, ".config")) || existsSync(join(source.path, "include", "config"))) {
      throw new BuildError(
        `kernel tree ${source.path} has been configured in place; kata-build builds out of tree`,
        "run 'make mrproper' in it, or pass a clean tree or the tarball",
      );
    }
    return { path: source.path, version: await kernelVersion(source.path) };
  }
  const dir = join(sources, source.sha256);
  const existing = await unpacked(dir);
  if (existing) return existing;
  await mkdir(sources, { recursive: true });
  return withLock(
    `${dir}.lock`,
    async () => {
      const again = await unpacked(dir);
      if (again) return again;
      return ctx.progress.step(`Unpacking ${source.path}`, async () => {
        const temp = await mkdtemp(`${dir}.tmp-`);
        // A half-unpacked tree (hundreds of MB) must not stay in the cache after Ctrl-C.
        trackTemporary(temp);
        try {
          const result = await untar(source.path, temp, ctx.signal ? { cancelSignal: ctx.signal } : {});
          if (!result.ok) {
            throw new BuildError(
              `cannot unpack ${source.path}: tar ${describeResult(result)}`,
              result.stderr.trim().split("\n").slice(-5).join("\n  "),
            );
          }
          const top = (await readdir(temp)).filter((n) => n !== TREE_MARKER);
          const treeDir = top.length === 1 ? top[0]! : ".";
          checkKernelTree(join(temp, treeDir));
          await writeFile(join(temp, TREE_MARKER), `${treeDir}\n`);
          await rename(temp, dir);
        } finally {
          await rm(temp, { recursive: true, force: true });
          untrackTemporary(temp);
        }
        return (await unpacked(dir))!;
      });
    },
    { progress: ctx.progress, what: dir, ...(ctx.signal ? { signal: ctx.signal } : {}) },
  );
}

/** A finished extraction (its marker names the tree directory), or undefined. */
async function unpacked(dir: string): Promise<KernelTree | undefined> {
  const name = await readFile(join(dir, TREE_MARKER), "utf8").catch(() => undefined);
  if (name === undefined) return undefined;
  const path = join(dir, name.trim());
  return { path, version: await kernelVersion(path) };
}

function checkKernelTree(path: string): void {
  for (const file of ["Makefile", "Kconfig", "arch", "scripts/kconfig"]) {
    if (!existsSync(join(path, file))) {
      throw new BuildError(`${path} is not a Linux kernel source tree (no ${file})`);
    }
  }
}

/** The version the top-level Makefile declares, e.g. 6.1.192. */
export async function kernelVersion(treeDir: string): Promise<string> {
  const makefile = await readFile(join(treeDir, "Makefile"), "utf8");
  const field = (name: string) => new RegExp(`^${name}[ \\t]*=[ \\t]*(\\S*)`, "m").exec(makefile)?.[1] ?? "";
  const version = `${field("VERSION")}.${field("PATCHLEVEL")}.${field("SUBLEVEL")}${field("EXTRAVERSION")}`;
  if (!/^\d+\.\d+\./.test(version))
    throw new BuildError(`cannot read the kernel version from ${treeDir}/Makefile`);
  return version;
}
