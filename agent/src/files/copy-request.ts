// Checks a CopyFile request before anything touches the disk: where it may write (only below the
// shared root, no "..", no NUL), what it creates (directory, symlink or regular file), and whether
// its sizes and offsets make sense. Everything refused here is INVALID_ARGUMENT.
import type { CopyFileRequest } from "../../gen/agent_pb.js";
import { InvalidInputError } from "../core/domain-error.js";
import { isComponent } from "./dir-handle.js";

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;

/** The largest file CopyFile accepts (the runtime copies config files and small volumes). */
export const DEFAULT_MAX_FILE_SIZE = 16 * 1024 ** 3;
/** Longest symlink target the kernel stores (PATH_MAX - 1). */
const MAX_LINK_TARGET = 4095;

/** What CopyFile uses of its request (the generated message's own fields). */
export type CopyFileInput = Pick<
  CopyFileRequest,
  "path" | "fileSize" | "fileMode" | "dirMode" | "uid" | "gid" | "offset" | "data"
>;

export type CopyPlan = {
  /** Components below the root; the last one is what gets created. */
  components: string[];
  /** Permission bits (file_mode & 0o7777 for the target, dir_mode & 0o777 for new parents). */
  mode: number;
  dirMode: number;
  uid: number;
  gid: number;
} & (
  | { kind: "directory" }
  | { kind: "symlink"; target: string }
  | { kind: "file"; size: number; offset: number; data: Uint8Array }
);

export function planCopy(req: CopyFileInput, root: string, maxFileSize = DEFAULT_MAX_FILE_SIZE): CopyPlan {
  const components = confine(req.path, root);
  const ids = { uid: checkId(req.uid, "uid"), gid: checkId(req.gid, "gid") };
  const common = { components, mode: req.fileMode & 0o7777, dirMode: req.dirMode & 0o777 || 0o755, ...ids };
  const type = req.fileMode & S_IFMT;
  if (type === S_IFDIR) return { ...common, kind: "directory" };
  if (type === S_IFLNK) return { ...common, kind: "symlink", target: linkTarget(req) };
  if (type !== 0 && type !== S_IFREG) {
    throw invalid(
      `CopyFile creates regular files, directories and symlinks; file_mode 0o${req.fileMode.toString(8)} ` +
        `of ${req.path} is another file type`,
    );
  }
  const { size, offset } = checkSizes(req, maxFileSize);
  return { ...common, kind: "file", size, offset, data: req.data };
}

/** The path's components below `root`, or INVALID_ARGUMENT saying why it may not be written. */
export function confine(path: string, root: string): string[] {
  const where = `CopyFile only writes below ${root}/`;
  if (path.includes("\0")) throw invalid(`${where}; the path contains a NUL byte`);
  if (!path.startsWith(`${root}/`)) throw invalid(`${where}; ${JSON.stringify(path)} is outside it`);
  const components = path
    .slice(root.length + 1)
    .split("/")
    .filter((c) => c !== "");
  if (components.length === 0) throw invalid(`${where}; the path names the directory itself`);
  const bad = components.find((c) => !isComponent(c));
  if (bad !== undefined) {
    throw invalid(`${where}; ${JSON.stringify(path)} contains a "${bad}" component, which is not allowed`);
  }
  return components;
}

function checkSizes(req: CopyFileInput, maxFileSize: number): { size: number; offset: number } {
  const { fileSize, offset } = req;
  const end = offset + BigInt(req.data.length);
  if (fileSize < 0n) throw invalid(`file_size ${fileSize} of ${req.path} is negative`);
  if (fileSize > BigInt(maxFileSize)) {
    throw invalid(
      `file_size ${fileSize} of ${req.path} exceeds this agent's CopyFile limit of ${maxFileSize} bytes`,
    );
  }
  if (offset < 0n) throw invalid(`offset ${offset} of ${req.path} is negative`);
  if (offset > fileSize)
    throw invalid(`offset ${offset} of ${req.path} lies beyond its file_size ${fileSize}`);
  if (end > fileSize) {
    throw invalid(
      `the chunk for ${req.path} ends at byte ${end}, beyond its file_size ${fileSize}; ` +
        `every chunk must repeat the same file_size`,
    );
  }
  return { size: Number(fileSize), offset: Number(offset) };
}

function linkTarget(req: CopyFileInput): string {
  const target = Buffer.from(req.data).toString("utf8");
  if (target === "") throw invalid(`symlink ${req.path} has no target (send it in data)`);
  if (target.includes("\0")) throw invalid(`symlink target for ${req.path} contains a NUL byte`);
  if (req.data.length > MAX_LINK_TARGET) {
    throw invalid(
      `symlink target for ${req.path} is ${req.data.length} bytes; the limit is ${MAX_LINK_TARGET}`,
    );
  }
  return target;
}

/** uid/gid: -1 means "leave unchanged", as in chown(2); other negative ids are refused. */
function checkId(id: number, what: string): number {
  if (id < -1) throw invalid(`${what} ${id} is not a valid id (use -1 to keep the current one)`);
  return id;
}

function invalid(message: string): InvalidInputError {
  return new InvalidInputError(message);
}
