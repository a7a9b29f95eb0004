// A lock between builds that share a cache (a directory made with mkdir, which is atomic),
// held while one of them refreshes, builds or reads state another may be rewriting. A lock whose
// owner is gone, or that is older than `staleMs`, is taken over.
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { trackTemporary, untrackTemporary } from "./atomic.js";

export interface LockOptions {
  /** Age after which a lock is taken over even if its owner lives (default 15 min; Infinity: never). */
  staleMs?: number;
  pollMs?: number;
  /** Called once when the lock is busy and the caller starts waiting, with the owner's pid. */
  onWait?: (owner: number | undefined) => void;
  signal?: AbortSignal;
}

/** An owner writes its pid right after taking the lock; one without a pid this long has died. */
const PID_GRACE_MS = 10_000;

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function ownerOf(path: string): Promise<number | undefined> {
  const pid = Number(await readFile(join(path, "pid"), "utf8").catch(() => ""));
  return pid > 0 ? pid : undefined;
}

async function isStale(path: string, staleMs: number): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return false;
  if (!st.isDirectory()) return true; // a lock file of an older kata-build
  const age = Date.now() - st.mtimeMs;
  if (age > staleMs) return true;
  const pid = await ownerOf(path);
  if (pid === undefined) return age > PID_GRACE_MS;
  return pid !== process.pid && !processAlive(pid);
}

export async function withLock<T>(
  path: string,
  run: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const staleMs = options.staleMs ?? 15 * 60_000;
  let waited = false;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      await mkdir(path);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      if (await isStale(path, staleMs)) {
        await rm(path, { recursive: true, force: true });
        continue;
      }
      if (!waited) options.onWait?.(await ownerOf(path));
      waited = true;
      await sleep(options.pollMs ?? 250, undefined, options.signal ? { signal: options.signal } : {});
    }
  }
  trackTemporary(path);
  try {
    await writeFile(join(path, "pid"), String(process.pid));
    return await run();
  } finally {
    await rm(path, { recursive: true, force: true });
    untrackTemporary(path);
  }
}
