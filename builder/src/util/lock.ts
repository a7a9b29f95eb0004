// A lock between builds that share a cache (a directory made with mkdir, which is atomic),
// held while one of them refreshes or reads state another may be rewriting. A lock whose owner
// is gone, or that is older than `staleMs`, is taken over.
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { trackTemporary, untrackTemporary } from "./atomic.js";

export interface LockOptions {
  staleMs?: number;
  pollMs?: number;
  /** Called once when the lock is busy and the caller starts waiting. */
  onWait?: () => void;
  signal?: AbortSignal;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function isStale(path: string, staleMs: number): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return false;
  if (Date.now() - st.mtimeMs > staleMs) return true;
  const pid = Number(await readFile(join(path, "pid"), "utf8").catch(() => ""));
  return pid > 0 && pid !== process.pid && !alive(pid);
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
      if (!waited) options.onWait?.();
      waited = true;
      await sleep(options.pollMs ?? 250);
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
