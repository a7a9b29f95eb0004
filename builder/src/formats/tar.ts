// Root filesystem tarballs with tar-stream. Writing is deterministic: entries in tree order,
// every mtime set to SOURCE_DATE_EPOCH, numeric owners only (no user or group names), and
// hard links kept as links. Reading extracts safely into an empty directory and returns the
// tree with the owners, modes and device numbers that the headers carry.
import { createReadStream, createWriteStream } from "node:fs";
import { chmod, chown, lchown, link, lutimes, mkdir, readFile, symlink } from "node:fs/promises";
import { join, normalize } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import tar from "tar-stream";
import type { EntryType, Tree, TreeEntry } from "../util/tree.js";
import { sortEntries, TYPE_BITS } from "../util/tree.js";

const tarType: Record<EntryType, tar.Header["type"]> = {
  file: "file",
  dir: "directory",
  symlink: "symlink",
  hardlink: "link",
  char: "character-device",
  block: "block-device",
  fifo: "fifo",
  socket: "fifo",
};

type HeaderArgument = Partial<tar.Header> & Pick<tar.Header, "name">;

/** The tar header for one tree entry. Sockets cannot be archived and are skipped by callers. */
export function tarHeader(entry: TreeEntry, mtime: number): HeaderArgument {
  const header: HeaderArgument = {
    name: entry.path === "" ? "./" : entry.type === "dir" ? `${entry.path}/` : entry.path,
    type: tarType[entry.type],
    // With the file-type bits: tar-stream takes a mode of 0 for "unset" and writes 0644 (or
    // 0755), which turned /etc/shadow's 0000 into 0644. Only mode & 0o7777 is written.
    mode: TYPE_BITS[entry.type] | entry.perm,
    uid: entry.uid,
    gid: entry.gid,
    uname: "",
    gname: "",
    size: entry.type === "file" ? entry.size : 0,
    mtime: new Date(mtime * 1000),
  };
  if (entry.link !== undefined) header.linkname = entry.link;
  if (entry.type === "char" || entry.type === "block") {
    header.devmajor = entry.rdevMajor ?? 0;
    header.devminor = entry.rdevMinor ?? 0;
  }
  return header;
}

/** Writes `tree` as an uncompressed tarball at `out`. */
export async function writeTar(tree: Tree, out: string, mtime: number): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(out));
  for (const entry of tree.entries) {
    if (entry.type === "socket") continue;
    const header = tarHeader(entry, mtime);
    // Content is read whole (the largest file of a guest is tens of MiB); an empty buffer
    // ends entries without content at once.
    const body =
      entry.type === "file" && entry.size > 0 ? await readFile(join(tree.root, entry.path)) : Buffer.alloc(0);
    await new Promise<void>((resolve, reject) => {
      pack.entry(header, body, (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
}

const fromTarType: Partial<Record<tar.Header["type"], EntryType>> = {
  file: "file",
  "contiguous-file": "file",
  directory: "dir",
  symlink: "symlink",
  link: "hardlink",
  "character-device": "char",
  "block-device": "block",
  fifo: "fifo",
};

/** Cleans a member name; refuses absolute escapes and `..`. */
export function memberPath(name: string): string {
  const trimmed = name.replace(/^\/+/, "").replace(/\/+$/, "");
  if (trimmed === "" || trimmed === ".") return "";
  const clean = normalize(trimmed).replace(/^\.\//, "");
  if (clean === ".." || clean.startsWith("../") || clean.split("/").includes("..")) {
    throw new Error(`tar member escapes the root: ${name}`);
  }
  return clean === "." ? "" : clean;
}

/** How `extractTar` gets at what it cannot do in TypeScript. */
export interface ExtractOptions {
  /** Creates a device node or FIFO (devices are recorded but not created without it). */
  makeDevice?: (abs: string, entry: TreeEntry) => Promise<void>;
  /** The decompressed bytes of a zstd file (Node 20's zlib has no zstd). */
  decompressZstd?: (file: string) => NodeJS.ReadableStream;
}

async function openInput(file: string, options: ExtractOptions): Promise<NodeJS.ReadableStream> {
  const head = await new Promise<Buffer>((resolve, reject) => {
    const s = createReadStream(file, { start: 0, end: 3 });
    const parts: Buffer[] = [];
    s.on("data", (c) => parts.push(c as Buffer));
    s.on("end", () => resolve(Buffer.concat(parts)));
    s.on("error", reject);
  });
  if (head[0] === 0x1f && head[1] === 0x8b) return createReadStream(file).pipe(createGunzip());
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) {
    if (!options.decompressZstd)
      throw new Error(`${file} is zstd-compressed, and no zstd decompressor was given`);
    return options.decompressZstd(file);
  }
  return createReadStream(file);
}

/**
 * Extracts `file` (plain, gzip or zstd tar) into the empty directory `root`. Owners are set
 * only when running as root; device nodes are recorded but created only by `makeDevice`.
 * Returns the tree described by the headers, in canonical order.
 */
export async function extractTar(file: string, root: string, options: ExtractOptions = {}): Promise<Tree> {
  const { makeDevice } = options;
  const isRoot = process.getuid?.() === 0;
  const byPath = new Map<string, TreeEntry>();
  const dirs = new Set<string>([""]);
  const times: Array<[string, number]> = [];
  await mkdir(root, { recursive: true });

  // A member may only be written beneath directories that this extraction created, so a
  // symlink in the archive can never redirect a later member outside the root.
  async function ensureParent(rel: string): Promise<void> {
    const parts = rel.split("/").slice(0, -1);
    let cur = "";
    for (const part of parts) {
      cur = cur ? `${cur}/${part}` : part;
      if (dirs.has(cur)) continue;
      const existing = byPath.get(cur);
      if (existing && existing.type !== "dir")
        throw new Error(`tar member /${rel} lies under non-directory /${cur}`);
      await mkdir(join(root, cur));
      dirs.add(cur);
      byPath.set(cur, { path: cur, type: "dir", perm: 0o755, uid: 0, gid: 0, size: 0 });
    }
  }

  const extract = tar.extract();
  const input = await openInput(file, options);
  const consume = (async () => {
    for await (const member of extract) {
      const h = member.header;
      const type = fromTarType[h.type];
      if (!type) {
        member.resume();
        continue;
      }
      const rel = memberPath(h.name);
      const abs = rel ? join(root, rel) : root;
      const entry: TreeEntry = {
        path: rel,
        type,
        perm: (h.mode ?? 0o644) & 0o7777,
        uid: h.uid ?? 0,
        gid: h.gid ?? 0,
        size: type === "file" ? (h.size ?? 0) : 0,
      };
      if (rel !== "") await ensureParent(rel);
      const previous = byPath.get(rel);
      if (previous && !(previous.type === "dir" && type === "dir")) {
        throw new Error(`tar member /${rel} appears twice`);
      }
      if (type === "dir") {
        if (!dirs.has(rel)) await mkdir(abs);
        dirs.add(rel);
        member.resume();
      } else if (type === "file") {
        await pipeline(member, createWriteStream(abs, { mode: 0o600 }));
      } else if (type === "symlink") {
        entry.link = h.linkname ?? "";
        await symlink(entry.link, abs);
        member.resume();
      } else if (type === "hardlink") {
        const target = memberPath(h.linkname ?? "");
        const first = byPath.get(target);
        if (first?.type !== "file") throw new Error(`tar hard link /${rel} -> /${target}: no such file`);
        entry.link = target;
        await link(join(root, target), abs);
        member.resume();
      } else {
        entry.rdevMajor = h.devmajor ?? 0;
        entry.rdevMinor = h.devminor ?? 0;
        if (makeDevice) await makeDevice(abs, entry);
        member.resume();
      }
      byPath.set(rel, entry);
      if (type !== "symlink" && type !== "hardlink" && (type === "file" || type === "dir" || makeDevice)) {
        if (isRoot) await chown(abs, entry.uid, entry.gid);
        // Directories stay writable for us until the end; their real mode is applied last.
        await chmod(abs, type === "dir" ? entry.perm | 0o700 : entry.perm);
      } else if (type === "symlink" && isRoot) {
        await lchown(abs, entry.uid, entry.gid);
      }
      const mtime = h.mtime ? Math.floor(h.mtime.getTime() / 1000) : 0;
      times.push([rel, mtime]);
    }
  })();
  input.on("error", (err: Error) => extract.destroy(err));
  input.pipe(extract as unknown as NodeJS.WritableStream);
  await consume;

  // Directory modes and all times last, deepest first, so nothing we write afterwards
  // changes them again.
  for (const [rel, mtime] of times.reverse()) {
    const entry = byPath.get(rel)!;
    const abs = rel ? join(root, rel) : root;
    if (entry.type === "dir") await chmod(abs, entry.perm);
    if (
      entry.type !== "hardlink" &&
      (entry.type === "file" || entry.type === "dir" || entry.type === "symlink")
    ) {
      await lutimes(abs, mtime, mtime);
    }
  }
  if (!byPath.has("")) byPath.set("", { path: "", type: "dir", perm: 0o755, uid: 0, gid: 0, size: 0 });
  return { root, entries: sortEntries([...byPath.values()]) };
}
