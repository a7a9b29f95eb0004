// Root filesystem tarballs with tar-stream. Writing is deterministic: entries in tree order,
// every mtime set to SOURCE_DATE_EPOCH, numeric owners only (no user or group names), and
// hard links kept as links. Reading extracts safely into an empty directory and returns the
// tree with the owners, modes and device numbers that the headers carry.
import { createReadStream, createWriteStream } from "node:fs";
import { chmod, chown, lchown, link, lutimes, mkdir, open, readFile, stat, symlink } from "node:fs/promises";
import { join, normalize } from "node:path";
import { type Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import tar from "tar-stream";
import { BuildError } from "../util/errors.js";
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

const fromTarType: Partial<Record<NonNullable<tar.Header["type"]>, EntryType>> = {
  file: "file",
  "contiguous-file": "file",
  directory: "dir",
  symlink: "symlink",
  link: "hardlink",
  "character-device": "char",
  "block-device": "block",
  fifo: "fifo",
};

/** What is wrong with a tarball (BuildError: the user gets the message, not a stack). */
export class TarError extends BuildError {
  constructor(file: string, problem: string, hint?: string) {
    super(`cannot unpack ${file}: ${problem}`, hint);
  }
}

const REMAKE_HINT = "check that the file is a whole tar archive (plain, gzip or zstd), e.g. with `tar -tvf`";

/** Cleans a member name; refuses absolute escapes and `..`. */
export function memberPath(name: string): string {
  const trimmed = name.replace(/^\/+/, "").replace(/\/+$/, "");
  if (trimmed === "" || trimmed === ".") return "";
  const clean = normalize(trimmed).replace(/^\.\//, "");
  if (clean === ".." || clean.startsWith("../") || clean.split("/").includes("..")) {
    throw new BuildError(`tar member ${JSON.stringify(name)} escapes the root`);
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
  const size = (await stat(file)).size;
  if (size === 0) throw new TarError(file, "the file is empty (0 bytes), not a tar archive", REMAKE_HINT);
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
      throw new TarError(file, "it is zstd-compressed, and no zstd decompressor was given");
    return options.decompressZstd(file);
  }
  return createReadStream(file);
}

/**
 * Passes the archive's bytes through, keeping the last 1 KiB: a whole tar archive ends with two
 * 512-byte blocks of zeros, which a truncated one lacks (tar-stream itself stops quietly at a
 * member boundary).
 */
class TailKeeper extends Transform {
  tail = Buffer.alloc(0);
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    this.tail = Buffer.concat([this.tail, chunk.subarray(Math.max(0, chunk.length - 1024))]).subarray(-1024);
    done(null, chunk);
  }
  get endsWithMarker(): boolean {
    return this.tail.length === 1024 && this.tail.every((b) => b === 0);
  }
}

/** A member's content into a new file at `abs` (0600 until its mode is applied). */
async function writeMember(member: AsyncIterable<unknown>, abs: string): Promise<void> {
  const file = await open(abs, "wx", 0o600);
  try {
    for await (const chunk of member) await file.write(chunk as Uint8Array);
  } finally {
    await file.close();
  }
}

/** A reader's error, as what is wrong with the archive. */
function describeReadError(file: string, err: Error, member: string | undefined): BuildError {
  if (err instanceof BuildError) return err;
  const where = member ? ` (in /${member})` : "";
  const message = err.message;
  if (/Unexpected end of data|unexpected end of file|premature end|Read error/i.test(message)) {
    return new TarError(file, `the archive ends in the middle${where}: it is truncated`, REMAKE_HINT);
  }
  if (
    /Invalid tar header|incorrect header check|invalid (block type|distance|code)|Unknown frame descriptor/i.test(
      message,
    )
  ) {
    return new TarError(file, `it is not a tar archive, or it is corrupt${where}: ${message}`, REMAKE_HINT);
  }
  return new TarError(file, `${message}${where}`, REMAKE_HINT);
}

/** Extended attributes of a member from its pax header (SCHILY.xattr.NAME = value). */
function paxXattrs(
  file: string,
  rel: string,
  pax: Record<string, string> | undefined,
): Record<string, Buffer> | undefined {
  if (!pax) return undefined;
  let xattrs: Record<string, Buffer> | undefined;
  for (const [key, value] of Object.entries(pax)) {
    if (!key.startsWith("SCHILY.xattr.")) continue;
    // tar-stream decodes pax values as UTF-8: a value that is not valid UTF-8 arrives altered.
    if (value.includes("\uFFFD")) {
      throw new TarError(
        file,
        `/${rel} has extended attribute ${key.slice(13)} with a binary value this reader cannot take exactly`,
        "unpack the tarball as root (tar --xattrs -xpf) and pass the directory instead",
      );
    }
    xattrs ??= {};
    xattrs[key.slice(13)] = Buffer.from(value, "utf8");
  }
  return xattrs;
}

/**
 * Extracts `file` (plain, gzip or zstd tar) into the empty directory `root`. Owners are set
 * only when running as root; device nodes are recorded but created only by `makeDevice`;
 * extended attributes are recorded (mkfs's debugfs pass applies them). Returns the tree
 * described by the headers, in canonical order. A truncated, empty or corrupt archive, a
 * member escaping the root (by `..`, through a symlink, or as a hard link's target) and a
 * member type this reader cannot unpack each fail with a message saying which.
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
        throw new TarError(file, `member /${rel} lies under non-directory /${cur} (a ${existing.type})`);
      await mkdir(join(root, cur));
      dirs.add(cur);
      byPath.set(cur, { path: cur, type: "dir", perm: 0o755, uid: 0, gid: 0, size: 0 });
    }
  }

  const extract = tar.extract();
  const input = await openInput(file, options);
  const tail = new TailKeeper();
  let current: string | undefined;
  const consume = (async () => {
    for await (const member of extract) {
      const h = member.header;
      current = h.name.replace(/^(\.?\/)+/, "");
      const rel = memberPath(h.name);
      const type = h.type ? fromTarType[h.type] : undefined;
      const pax = h.pax as Record<string, string> | undefined;
      if (!type || pax?.["GNU.sparse.major"] !== undefined || pax?.["GNU.sparse.map"] !== undefined) {
        throw new TarError(
          file,
          `member /${rel} is ${type ? "a GNU sparse file" : h.type ? `a ${h.type}` : "of a type (a GNU sparse file, or a vendor extension)"}, which this reader cannot unpack`,
          "re-create the archive with plain members: GNU tar without --sparse",
        );
      }
      const abs = rel ? join(root, rel) : root;
      const entry: TreeEntry = {
        path: rel,
        type,
        perm: (h.mode ?? 0o644) & 0o7777,
        uid: h.uid ?? 0,
        gid: h.gid ?? 0,
        size: type === "file" ? (h.size ?? 0) : 0,
      };
      const xattrs = paxXattrs(file, rel, pax);
      if (xattrs) entry.xattrs = xattrs;
      if (rel !== "") await ensureParent(rel);
      const previous = byPath.get(rel);
      if (previous && !(previous.type === "dir" && type === "dir")) {
        throw new TarError(file, `member /${rel} appears twice`);
      }
      if (type === "dir") {
        if (!dirs.has(rel)) await mkdir(abs);
        dirs.add(rel);
        member.resume();
      } else if (type === "file") {
        await writeMember(member, abs);
      } else if (type === "symlink") {
        entry.link = h.linkname ?? "";
        await symlink(entry.link, abs);
        member.resume();
      } else if (type === "hardlink") {
        const target = memberPath(h.linkname ?? "");
        const first = byPath.get(target);
        if (first?.type !== "file")
          throw new TarError(file, `hard link /${rel} -> /${target}: no such file earlier in the archive`);
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
      current = undefined;
    }
  })();
  // Every way the input can fail ends the extraction with that error; none is left hanging.
  const fail = (err: Error) => extract.destroy(err);
  (input as Readable).on("error", fail);
  tail.on("error", fail);
  input.pipe(tail).pipe(extract as unknown as NodeJS.WritableStream);
  // The reader's own error ends the extraction even where a step still waits for a member's data
  // that will never come (a member cut short at the very end of the input did just that).
  const failed = new Promise<never>((_, reject) => extract.on("error", reject));
  consume.catch(() => {});
  failed.catch(() => {});
  try {
    await Promise.race([consume, failed]);
  } catch (err) {
    (input as Readable).destroy?.();
    throw describeReadError(file, err as Error, current);
  }
  if (!tail.endsWithMarker) {
    throw new TarError(
      file,
      tail.bytes < 1024
        ? `${tail.bytes} bytes are too few for a tar archive`
        : "the archive has no end-of-archive marker: it is truncated",
      REMAKE_HINT,
    );
  }

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
