// CopyFile: the runtime's way to put files into the guest when there is no shared filesystem.
// Writes are confined to one root directory (<runDir>/shared/containers).
//
// What is guaranteed: every component below the root is opened relative to its already-open
// parent with O_NOFOLLOW (see dir-handle.ts), files are created with O_EXCL|O_NOFOLLOW, modes and
// owners are set through the open descriptor (or lchown for links), and the final rename happens
// inside the open parent. A symbolic link or a directory swapped for one, at any moment and between
// any two chunks, therefore makes the request fail instead of being followed: nothing is ever
// created, written, chmod-ed or chown-ed outside the root. The temporary file is re-checked on every
// chunk (regular file, single link, same inode as looked up) so a planted FIFO, device or hard link
// is refused too.
// What is not guaranteed: the root path itself is trusted, and a process that can write below the
// root can still make a copy fail or replace a file after it has been written.
// Requires /proc (always mounted in the guest).

import { constants, type Stats } from "node:fs";
import { type FileHandle, lchown, mkdir, open, rename, statfs, symlink } from "node:fs/promises";
import { resolve } from "node:path";
import {
  DomainError,
  InvalidInputError,
  PreconditionError,
  ResourceExhaustedError,
  withContext,
} from "../core/domain-error.js";
import type { Logger } from "../log.js";
import { sha256Hex } from "../util/hash.js";
import { type CopyFileInput, type CopyPlan, DEFAULT_MAX_FILE_SIZE, planCopy } from "./copy-request.js";
import { DirHandle, isErrno, UnsafePathError } from "./dir-handle.js";
import { KeyedLock } from "./keyed-lock.js";

export interface FileServiceOptions {
  /** The only directory CopyFile writes below, e.g. /run/kata-containers/shared/containers. */
  root: string;
  maxFileSize?: number;
  log?: Logger;
}

type FilePlan = Extract<CopyPlan, { kind: "file" }>;

export class FileService {
  readonly root: string;
  private readonly maxFileSize: number;
  private readonly log: Logger | undefined;
  private readonly locks = new KeyedLock();

  constructor(options: FileServiceOptions) {
    this.root = resolve(options.root);
    this.maxFileSize = options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
    this.log = options.log?.child({ subsystem: "copy-file" });
  }

  /** One CopyFile request: a directory, a symlink, or one chunk of a regular file. */
  async copyFile(req: CopyFileInput): Promise<void> {
    const plan = planCopy(req, this.root, this.maxFileSize);
    await this.locks.run(plan.components.join("/"), async () => {
      try {
        await this.apply(plan);
      } catch (err) {
        throw describe(err, req.path);
      }
    });
  }

  private async apply(plan: CopyPlan): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o755 });
    const opened: DirHandle[] = [await DirHandle.open(this.root)];
    try {
      const parents = plan.components.slice(0, -1);
      for (const name of parents) {
        const { dir } = await opened.at(-1)!.ensureChild(name, plan.dirMode);
        opened.push(dir);
      }
      const parent = opened.at(-1)!;
      // The immediate parent takes the file's owner (upstream does the same), but never the root.
      if (parents.length > 0) await parent.chown(plan.uid, plan.gid);
      const name = plan.components.at(-1)!;
      switch (plan.kind) {
        case "directory":
          return await makeDirectory(parent, name, plan);
        case "symlink":
          return await makeSymlink(parent, name, plan.target, plan);
        case "file":
          return await this.writeChunk(parent, name, plan);
      }
    } finally {
      for (const dir of opened.reverse()) await dir.close();
    }
  }

  private async writeChunk(parent: DirHandle, name: string, plan: FilePlan): Promise<void> {
    const temp = tempName(name);
    if (plan.offset === 0) {
      // A directory in the way cannot be replaced by rename(2); a file or link can, atomically, so
      // those stay visible until the new content is complete.
      if ((await parent.lstat(name))?.isDirectory()) await parent.remove(name);
      await parent.remove(temp);
      await this.checkSpace(parent, plan.size);
    }
    const file = await openTemp(parent, temp, plan);
    let size: number;
    try {
      await writeAll(file, plan.data, plan.offset);
      size = (await file.stat()).size;
      if (size === plan.size) {
        await file.chmod(plan.mode);
        await file.chown(plan.uid, plan.gid);
        await file.datasync();
      }
    } finally {
      await file.close();
    }
    if (size > plan.size) {
      await parent.remove(temp);
      throw new PreconditionError(
        `the partial copy holds ${size} bytes, more than file_size ${plan.size}: chunks disagree on the size; resend from offset 0`,
      );
    }
    if (size < plan.size) return;
    await rename(parent.at(temp), parent.at(name));
    this.log?.debug("file copied", { path: parent.display(name), bytes: size });
  }

  /** Refuses a copy that cannot fit, before any of it is written. */
  private async checkSpace(parent: DirHandle, bytes: number): Promise<void> {
    const fs = await statfs(`/proc/self/fd/${parent.fd}`, { bigint: true });
    const free = fs.bavail * fs.bsize;
    if (BigInt(bytes) > free) {
      throw new ResourceExhaustedError(
        `${parent.path} has ${free} bytes free; a ${bytes}-byte file does not fit`,
      );
    }
  }
}

async function makeDirectory(parent: DirHandle, name: string, plan: CopyPlan): Promise<void> {
  const existing = await parent.lstat(name);
  if (existing && !existing.isDirectory()) await parent.remove(name);
  const { dir } = await parent.ensureChild(name, plan.mode);
  try {
    await dir.chmod(plan.mode);
    await dir.chown(plan.uid, plan.gid);
  } finally {
    await dir.close();
  }
}

async function makeSymlink(parent: DirHandle, name: string, target: string, plan: CopyPlan): Promise<void> {
  await parent.remove(name);
  await symlink(target, parent.at(name));
  // lchown: the link itself, never what it points to.
  await lchown(parent.at(name), plan.uid, plan.gid);
}

/** Opens the partial file for this chunk, creating it for the first one. */
async function openTemp(parent: DirHandle, temp: string, plan: FilePlan): Promise<FileHandle> {
  const flags = constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  if (plan.offset === 0) return open(parent.at(temp), flags | constants.O_CREAT | constants.O_EXCL, 0o600);
  const before = await parent.lstat(temp);
  if (!before) {
    throw new PreconditionError(
      `no copy of ${parent.display(plan.components.at(-1)!)} is in progress at offset ${plan.offset}; ` +
        `send the first chunk (offset 0) first`,
    );
  }
  checkTemp(parent, temp, before);
  const file = await open(parent.at(temp), flags);
  try {
    const st = await file.stat();
    checkTemp(parent, temp, st);
    if (st.ino !== before.ino || st.dev !== before.dev) throw tampered(parent, temp, "was replaced");
    if (plan.offset > st.size) {
      throw new PreconditionError(
        `chunk at offset ${plan.offset} for ${parent.display(plan.components.at(-1)!)} leaves a gap: ` +
          `only ${st.size} bytes have arrived; resend from offset ${st.size} or 0`,
      );
    }
    return file;
  } catch (err) {
    await file.close();
    throw err;
  }
}

function checkTemp(parent: DirHandle, temp: string, st: Stats): void {
  if (!st.isFile()) throw tampered(parent, temp, "is not a regular file");
  if (st.nlink !== 1) throw tampered(parent, temp, `has ${st.nlink} hard links`);
}

function tampered(parent: DirHandle, temp: string, what: string): InvalidInputError {
  return new InvalidInputError(
    `the partial copy ${parent.display(temp)} ${what}; refusing to write through it (resend from offset 0)`,
  );
}

async function writeAll(file: FileHandle, data: Uint8Array, offset: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await file.write(data, done, data.length - done, offset + done);
    done += bytesWritten;
  }
}

/** Where the chunks of `name` accumulate: next to it, hidden, stable across requests. */
export function tempName(name: string): string {
  return `.kata-copy-${sha256Hex(name).slice(0, 24)}.tmp`;
}

/** Filesystem errors become domain errors that name the request's path. */
function describe(err: unknown, path: string): DomainError {
  if (err instanceof DomainError) return err;
  if (err instanceof UnsafePathError) {
    return new InvalidInputError(`CopyFile to ${path} refused: ${err.message}`, {
      cause: err,
    });
  }
  if (isErrno(err, "ELOOP")) {
    return new InvalidInputError(`CopyFile to ${path} refused: a symbolic link is in the way`, {
      cause: err,
    });
  }
  return withContext(err, (message) => `CopyFile to ${path} failed: ${message}`);
}
