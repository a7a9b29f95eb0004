// Directory handles for confined path walks. Node has no openat(2), but opening
// "/proc/self/fd/<dirfd>/<name>" is the procfs equivalent: the kernel follows the magic link to the
// directory the fd refers to (wherever it has been moved since) and looks up exactly one name in it.
// With O_NOFOLLOW that name is never followed if it is a symbolic link, so a walk that opens each
// component relative to its parent's fd cannot be steered outside the starting directory, however
// the tree is changed underneath it. Every helper here takes a single path component.
import { constants, type Stats } from "node:fs";
import { type FileHandle, lstat, mkdir, open, readdir, rmdir, unlink } from "node:fs/promises";

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** Thrown when a walk meets something it must not enter; `reason` says what was found. */
export class UnsafePathError extends Error {
  override readonly name = "UnsafePathError";
  constructor(
    readonly path: string,
    readonly reason: "symlink" | "not-a-directory",
  ) {
    super(
      reason === "symlink"
        ? `${path} is a symbolic link, which is never followed here`
        : `${path} exists and is not a directory`,
    );
  }
}

/** One path component: not empty, not "." or "..", no "/" and no NUL. */
export function isComponent(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\0");
}

export class DirHandle {
  private constructor(
    private readonly handle: FileHandle,
    /** The path this directory had when it was reached, for messages. */
    readonly path: string,
  ) {}

  /** Opens a trusted directory by path (symbolic links in `path` itself are followed). */
  static async open(path: string): Promise<DirHandle> {
    return new DirHandle(await open(path, constants.O_RDONLY | constants.O_DIRECTORY), path);
  }

  get fd(): number {
    return this.handle.fd;
  }

  /** The procfs path that names `name` inside this directory, as openat(fd, name) would. */
  at(name: string): string {
    if (!isComponent(name)) throw new Error(`not a single path component: ${JSON.stringify(name)}`);
    return `/proc/self/fd/${this.handle.fd}/${name}`;
  }

  /** The path of `name` for messages (not for file operations). */
  display(name: string): string {
    return `${this.path}/${name}`;
  }

  /** lstat of `name`, or undefined when there is nothing there. */
  async lstat(name: string): Promise<Stats | undefined> {
    try {
      return await lstat(this.at(name));
    } catch (err) {
      if (isErrno(err, "ENOENT")) return undefined;
      throw err;
    }
  }

  /** Opens the subdirectory `name` without following a symbolic link; undefined if absent. */
  async child(name: string): Promise<DirHandle | undefined> {
    try {
      return new DirHandle(await open(this.at(name), DIR_FLAGS), this.display(name));
    } catch (err) {
      if (isErrno(err, "ENOENT")) return undefined;
      if (isErrno(err, "ENOTDIR") || isErrno(err, "ELOOP")) {
        const st = await this.lstat(name);
        throw new UnsafePathError(this.display(name), st?.isSymbolicLink() ? "symlink" : "not-a-directory");
      }
      throw err;
    }
  }

  /** The subdirectory `name`, created with `mode` (exactly, not masked by the umask) if missing. */
  async ensureChild(name: string, mode: number): Promise<{ dir: DirHandle; created: boolean }> {
    const existing = await this.child(name);
    if (existing) return { dir: existing, created: false };
    try {
      await mkdir(this.at(name), { mode });
    } catch (err) {
      if (!isErrno(err, "EEXIST")) throw err;
    }
    const dir = await this.child(name);
    if (!dir) throw new Error(`${this.display(name)} vanished right after it was created`);
    await dir.chmod(mode);
    return { dir, created: true };
  }

  async entries(): Promise<string[]> {
    return readdir(`/proc/self/fd/${this.handle.fd}`);
  }

  async chmod(mode: number): Promise<void> {
    await this.handle.chmod(mode);
  }

  /** fchown; -1 leaves that id unchanged. */
  async chown(uid: number, gid: number): Promise<void> {
    await this.handle.chown(uid, gid);
  }

  async stat(): Promise<Stats> {
    return this.handle.stat();
  }

  /**
   * Removes `name` whatever it is. Directories are emptied through handles opened with O_NOFOLLOW,
   * so a subdirectory swapped for a link mid-way is unlinked as a link, never descended into.
   */
  async remove(name: string): Promise<void> {
    const st = await this.lstat(name);
    if (!st) return;
    if (!st.isDirectory()) {
      await unlinkQuiet(this.at(name));
      return;
    }
    let sub: DirHandle | undefined;
    try {
      sub = await this.child(name);
    } catch (err) {
      if (!(err instanceof UnsafePathError)) throw err;
      await unlinkQuiet(this.at(name));
      return;
    }
    if (!sub) return;
    try {
      for (const entry of await sub.entries()) await sub.remove(entry);
    } finally {
      await sub.close();
    }
    try {
      await rmdir(this.at(name));
    } catch (err) {
      if (!isErrno(err, "ENOENT")) throw err;
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

async function unlinkQuiet(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
  }
}

export function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}
