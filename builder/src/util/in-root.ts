// Paths inside a root filesystem that is not the running system. Symlinks in the tree are
// resolved against the tree's root (an absolute target means the root, never the host), so
// writing through /sbin -> usr/sbin or /sbin -> /usr/sbin lands inside the tree.
import { chmod, copyFile, lstat, mkdir, readdir, readlink, rm, symlink } from "node:fs/promises";
import { join, posix } from "node:path";

/** Resolves `path` (absolute, inside the root) to its final in-root path, following links. */
export async function resolveInRoot(root: string, path: string, maxLinks = 40): Promise<string> {
  const parts = posix.normalize(path).split("/").filter(Boolean);
  let resolved: string[] = [];
  let links = 0;
  while (parts.length) {
    const part = parts.shift()!;
    if (part === "..") {
      resolved.pop();
      continue;
    }
    if (part === ".") continue;
    const candidate = [...resolved, part];
    const st = await lstat(join(root, ...candidate)).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      if (++links > maxLinks) throw new Error(`too many symlinks resolving ${path} in ${root}`);
      const target = await readlink(join(root, ...candidate));
      if (target.startsWith("/")) resolved = [];
      parts.unshift(...target.split("/").filter(Boolean));
    } else {
      resolved = candidate;
    }
  }
  return `/${resolved.join("/")}`;
}

/** The host path for an in-root path, with its parent directories resolved in the root. */
export async function hostPath(root: string, path: string): Promise<string> {
  const dir = await resolveInRoot(root, posix.dirname(path));
  return join(root, dir, posix.basename(path));
}

/** The systemd binary inside the root (its in-root path), or undefined. */
export async function findSystemd(root: string): Promise<string | undefined> {
  for (const p of ["/usr/lib/systemd/systemd", "/lib/systemd/systemd"]) {
    const resolved = await resolveInRoot(root, p);
    if (
      await lstat(join(root, resolved)).then(
        () => true,
        () => false,
      )
    )
      return resolved;
  }
  return undefined;
}

export interface LayTreeOptions {
  /** Entries to leave out, by path relative to the source tree ("a/b"). */
  skip?: (rel: string, isDirectory: boolean) => boolean;
  /** The mode of a laid file, from its source's mode (default: the source's permission bits). */
  mode?: (sourceMode: number) => number;
}

/**
 * Lays the tree `from` into the root under the in-root directory `dest`: directories are made,
 * files and symlinks replace what is there, and every destination is resolved inside the root
 * (a link in the root never leads a write onto the host). Returns the in-root paths of the
 * files and links laid, sorted.
 */
export async function layTree(
  from: string,
  root: string,
  dest = "/",
  options: LayTreeOptions = {},
): Promise<string[]> {
  const laid: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(from, rel))).sort()) {
      const sub = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(from, sub));
      if (options.skip?.(sub, st.isDirectory())) continue;
      const inRoot = posix.join(dest, sub);
      const target = await hostPath(root, inRoot);
      if (st.isDirectory()) {
        await mkdir(target, { recursive: true });
        await walk(sub);
        continue;
      }
      await rm(target, { force: true });
      if (st.isSymbolicLink()) await symlink(await readlink(join(from, sub)), target);
      else {
        await copyFile(join(from, sub), target);
        await chmod(target, options.mode ? options.mode(st.mode) : st.mode & 0o7777);
      }
      laid.push(inRoot);
    }
  };
  await mkdir(await hostPath(root, dest === "/" ? "/." : dest), { recursive: true });
  await walk("");
  return laid;
}
