// The shared libraries programs inside a root need, found the way the guest's dynamic loader
// will: each ELF file's DT_NEEDED sonames, looked up in its DT_RUNPATH ($ORIGIN expanded), then
// in the directories of the root's /etc/ld.so.conf (and its includes), then the default ones;
// recursively, plus each program's PT_INTERP. Everything stays inside the root (symlinks
// resolved against it), so this works for any distribution's tree on any host.
import { open, readdir, readFile, readlink } from "node:fs/promises";
import { join, posix } from "node:path";
import { resolveInRoot } from "../util/in-root.js";
import { type ElfDynamic, readElfDynamic } from "./elf-dynamic.js";

/** The loader's own defaults after ld.so.conf (multiarch first, as Debian's glibc searches). */
const MULTIARCH: Record<number, string> = { 62: "x86_64-linux-gnu", 183: "aarch64-linux-gnu" };
const defaultDirs = (machine: number) => {
  const triplet = MULTIARCH[machine];
  return [
    ...(triplet ? [`/lib/${triplet}`, `/usr/lib/${triplet}`] : []),
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
  ];
};

/** Reads an ELF file inside the root (in-root path), or undefined if it is not one. */
export async function elfInRoot(root: string, path: string): Promise<ElfDynamic | undefined> {
  const handle = await open(join(root, await resolveInRoot(root, path))).catch(() => undefined);
  if (!handle) return undefined;
  try {
    return await readElfDynamic(async (offset, length) => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    });
  } catch {
    // A directory, a device, a truncated file: not an ELF program or library.
    return undefined;
  } finally {
    await handle.close();
  }
}

/** Every in-root path passed through to reach `path`: each symlink on the way, then the file. */
export async function pathChain(root: string, path: string): Promise<string[]> {
  const chain: string[] = [];
  let current = posix.normalize(path);
  for (let hops = 0; hops < 40; hops++) {
    // Resolve the directories first; then the last component may itself be a link.
    const dir = await resolveInRoot(root, posix.dirname(current));
    const here = posix.join(dir, posix.basename(current));
    chain.push(here);
    const target = await readlink(join(root, here)).catch(() => undefined);
    if (target === undefined) return chain;
    current = target.startsWith("/") ? target : posix.join(dir, target);
  }
  return chain;
}

/** The library directories of the root's /etc/ld.so.conf, includes followed, in order. */
export async function ldSoConfDirs(
  root: string,
  file = "/etc/ld.so.conf",
  seen = new Set<string>(),
): Promise<string[]> {
  if (seen.has(file)) return [];
  seen.add(file);
  const text = await readFile(join(root, await resolveInRoot(root, file)), "utf8").catch(() => "");
  const dirs: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const include = /^include\s+(.+)$/.exec(line);
    if (!include) {
      if (line.startsWith("/")) dirs.push(line);
      continue;
    }
    for (const pattern of include[1]!.split(/\s+/)) {
      const abs = pattern.startsWith("/") ? pattern : posix.join(posix.dirname(file), pattern);
      const dir = posix.dirname(abs);
      const glob = new RegExp(
        `^${posix
          .basename(abs)
          .replace(/[.+^${}()|[\]\\]/g, "\\$&")
          .replace(/\*/g, ".*")
          .replace(/\?/g, ".")}$`,
      );
      const names = await readdir(join(root, await resolveInRoot(root, dir))).catch(() => [] as string[]);
      for (const name of names.filter((n) => glob.test(n)).sort()) {
        dirs.push(...(await ldSoConfDirs(root, posix.join(dir, name), seen)));
      }
    }
  }
  return dirs;
}

export interface Closure {
  /** In-root paths of the programs, their loaders and libraries, symlinks on the way included. */
  files: Set<string>;
  /** The libraries each of these resolved to (final in-root paths), programs excluded. */
  libraries: Set<string>;
  /** The paths the loader opens (programs as given, libraries where it finds them). */
  opened: Set<string>;
  /** "program: soname" for libraries that were not found. */
  missing: string[];
}

/** The programs (in-root paths), with everything the dynamic loader will load for them. */
export async function libraryClosure(root: string, programs: readonly string[]): Promise<Closure> {
  const confDirs = await ldSoConfDirs(root);
  const closure: Closure = { files: new Set(), libraries: new Set(), opened: new Set(), missing: [] };
  const visited = new Set<string>();
  const queue: { path: string; library: boolean }[] = programs.map((path) => ({ path, library: false }));
  while (queue.length) {
    const { path, library } = queue.shift()!;
    const chain = await pathChain(root, path);
    const real = chain.at(-1)!;
    for (const p of chain) closure.files.add(p);
    closure.opened.add(chain[0]!);
    if (library) closure.libraries.add(real);
    if (visited.has(real)) continue;
    visited.add(real);
    const elf = await elfInRoot(root, real);
    if (!elf) continue;
    if (elf.interpreter) queue.push({ path: elf.interpreter, library: true });
    const origin = posix.dirname(real);
    const search = [
      ...elf.runpath.map((d) => d.replace(/\$(ORIGIN|\{ORIGIN\})/g, origin)),
      ...confDirs,
      ...defaultDirs(elf.machine),
    ];
    for (const soname of elf.needed) {
      let found: string | undefined;
      for (const dir of search) {
        const candidate = posix.join(dir, soname);
        if (await existsInRoot(root, candidate)) {
          found = candidate;
          break;
        }
      }
      if (found) queue.push({ path: found, library: true });
      else closure.missing.push(`${path}: ${soname}`);
    }
  }
  return closure;
}

async function existsInRoot(root: string, path: string): Promise<boolean> {
  const resolved = await resolveInRoot(root, path).catch(() => undefined);
  if (!resolved) return false;
  const handle = await open(join(root, resolved)).catch(() => undefined);
  await handle?.close();
  return handle !== undefined;
}
