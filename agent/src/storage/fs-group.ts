// Kubernetes fsGroup on a mounted volume: every file's group becomes the fsGroup and gains group
// read/write (read for read-only volumes), directories also group execute and setgid, as
// upstream's set_ownership does. OnRootMismatch skips the walk when the volume root already
// carries the group and those bits. The walk goes through O_NOFOLLOW handles (files/dir-handle)
// and never follows or changes symbolic links.
import { constants } from "node:fs";
import { lchown, open } from "node:fs/promises";
import { FSGroupChangePolicy } from "../../gen/types_pb.js";
import { DirHandle, isErrno, UnsafePathError } from "../files/index.js";
import type { Logger } from "../log.js";

const RW_MASK = 0o660;
const RO_MASK = 0o440;
const EXEC_MASK = 0o110;
const SETGID = 0o2000;

export interface FsGroup {
  groupId: number;
  groupChangePolicy: FSGroupChangePolicy;
}

export async function applyFsGroup(
  mountPoint: string,
  fsGroup: FsGroup,
  readOnly: boolean,
  log: Logger,
): Promise<"changed" | "skipped"> {
  const mask = readOnly ? RO_MASK : RW_MASK;
  const root = await DirHandle.open(mountPoint);
  try {
    const st = await root.stat();
    const dirMask = mask | EXEC_MASK;
    if (
      fsGroup.groupChangePolicy === FSGroupChangePolicy.OnRootMismatch &&
      st.gid === fsGroup.groupId &&
      (st.mode & dirMask) === dirMask &&
      st.mode & SETGID
    ) {
      log.info("volume root already matches fsGroup; skipping ownership change", {
        mountPoint,
        fsGroup: fsGroup.groupId,
      });
      return "skipped";
    }
    log.info("changing volume ownership to fsGroup", { mountPoint, fsGroup: fsGroup.groupId });
    await walk(root, fsGroup.groupId, mask);
    await root.chown(-1, fsGroup.groupId);
    await root.chmod((st.mode & 0o7777) | dirMask | SETGID);
    return "changed";
  } finally {
    await root.close();
  }
}

async function walk(dir: DirHandle, gid: number, mask: number): Promise<void> {
  for (const name of await dir.entries()) {
    const st = await dir.lstat(name);
    if (!st || st.isSymbolicLink()) continue;
    if (st.isDirectory()) {
      let sub: DirHandle | undefined;
      try {
        sub = await dir.child(name);
      } catch (err) {
        if (err instanceof UnsafePathError) continue; // swapped for a link meanwhile
        throw err;
      }
      if (!sub) continue;
      try {
        await walk(sub, gid, mask);
        const now = await sub.stat();
        await sub.chown(-1, gid);
        await sub.chmod((now.mode & 0o7777) | mask | EXEC_MASK | SETGID);
      } finally {
        await sub.close();
      }
    } else if (st.isFile()) {
      await changeFile(dir, name, gid, mask);
    } else {
      // Devices, FIFOs and sockets: group only, without opening them.
      await lchown(dir.at(name), -1, gid);
    }
  }
}

async function changeFile(dir: DirHandle, name: string, gid: number, mask: number): Promise<void> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(
      dir.at(name),
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY,
    );
  } catch (err) {
    if (isErrno(err, "ELOOP") || isErrno(err, "ENOENT")) return;
    throw err;
  }
  try {
    const st = await file.stat();
    if (!st.isFile()) return;
    await file.chown(-1, gid);
    await file.chmod((st.mode & 0o7777) | mask);
  } finally {
    await file.close();
  }
}
