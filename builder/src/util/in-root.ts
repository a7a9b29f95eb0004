// Paths inside a root filesystem that is not the running system. Symlinks in the tree are
// resolved against the tree's root (an absolute target means the root, never the host), so
// writing through /sbin -> usr/sbin or /sbin -> /usr/sbin lands inside the tree.
import { lstat, readlink } from "node:fs/promises";
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
