// watchable-bind: virtio-fs and 9p deliver no inotify events, so ConfigMaps and Secrets that the
// kubelet updates on the host would never change inside containers. The runtime marks such small
// volumes "watchable"; the agent copies them into a tmpfs and polls the source every 2 s, copying
// what changed (upstream's watcher.rs). A source with more than 16 entries or more than 1 MiB is
// no longer watched: it is bind-mounted instead, which stays current but without change events.
import {
  chmod,
  copyFile,
  lchown,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  rm,
  symlink,
} from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import type { Logger } from "../log.js";
import { MS } from "./mount-options.js";
import { MNT_DETACH, type Mounter } from "./mounter.js";

export const MAX_ENTRIES_PER_STORAGE = 16;
export const MAX_SIZE_PER_WATCHABLE_MOUNT = 1024 * 1024;
export const WATCH_INTERVAL_MS = 2000;

class TooLargeError extends Error {}

interface Entry {
  source: string;
  target: string;
  /** False once replaced by a bind mount. */
  watch: boolean;
  /** Path -> mtime (ms) of everything copied so far. */
  seen: Map<string, number>;
}

export interface BindWatcherOptions {
  /** The tmpfs the copies live in: <runDir>/shared/containers/watchable. */
  root: string;
  mounter: Mounter;
  log: Logger;
  intervalMs?: number;
}

export class BindWatcher {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> = Promise.resolve();
  private mounted = false;

  constructor(private readonly options: BindWatcherOptions) {}

  /** Starts mirroring `source` at `target` (copied now, then every interval). */
  async add(source: string, target: string): Promise<void> {
    if (!this.mounted) {
      await mkdir(this.options.root, { recursive: true });
      if (!(await this.options.mounter.isMountPoint(this.options.root))) {
        await this.options.mounter.mount({
          source: "tmpfs",
          target: this.options.root,
          fstype: "tmpfs",
          flags: 0,
          data: "",
        });
      }
      this.mounted = true;
    }
    const entry: Entry = { source, target, watch: true, seen: new Map() };
    if ((await lstat(source)).isDirectory()) await mkdir(target, { recursive: true });
    this.entries.set(target, entry);
    await this.serialized(() => this.check(entry));
    this.timer ??= setInterval(
      () => void this.checkAll(),
      this.options.intervalMs ?? WATCH_INTERVAL_MS,
    ).unref();
  }

  /** Stops mirroring into `target` and removes the copy (or the bind mount that replaced it). */
  async remove(target: string): Promise<void> {
    const entry = this.entries.get(target);
    if (!entry) return;
    this.entries.delete(target);
    await this.serialized(async () => {
      if (!entry.watch) await this.unmountQuietly(target);
      await rm(target, { recursive: true, force: true });
    });
    if (this.entries.size === 0) this.stopTimer();
  }

  /** Everything off: copies removed, tmpfs unmounted. */
  async stop(): Promise<void> {
    for (const target of [...this.entries.keys()]) await this.remove(target);
    this.stopTimer();
    if (this.mounted) await this.unmountQuietly(this.options.root);
    this.mounted = false;
  }

  /** One polling round over every entry (the timer calls it; tests too). */
  async checkAll(): Promise<void> {
    await this.serialized(async () => {
      for (const entry of this.entries.values()) if (entry.watch) await this.check(entry);
    });
  }

  /** Whether `target` is still copied (false once it became a bind mount). */
  isWatched(target: string): boolean | undefined {
    return this.entries.get(target)?.watch;
  }

  private serialized(work: () => Promise<void>): Promise<void> {
    const next = this.scanning.then(work, work);
    this.scanning = next.catch((err: unknown) =>
      this.options.log.warn("watchable-bind scan failed", { error: err }),
    );
    return next;
  }

  private async check(entry: Entry): Promise<void> {
    try {
      await this.scan(entry);
    } catch (err) {
      if (!(err instanceof TooLargeError)) {
        this.options.log.warn("watchable-bind scan error", { source: entry.source, error: err });
        return;
      }
      await this.replaceWithBind(entry, err.message);
    }
  }

  private async scan(entry: Entry): Promise<void> {
    for (const path of [...entry.seen.keys()]) {
      if (await lstat(path).catch(() => undefined)) continue;
      entry.seen.delete(path);
      await rm(this.targetOf(entry, path), { recursive: true, force: true });
    }
    const changed: string[] = [];
    await this.scanPath(entry, entry.source, changed);
    for (const path of changed) {
      try {
        await this.copyOne(entry, path);
      } catch (err) {
        this.options.log.warn("watchable-bind copy failed", { path, error: err });
      }
    }
  }

  /** Records new or modified paths in `changed`; returns the bytes below `path`. */
  private async scanPath(entry: Entry, path: string, changed: string[]): Promise<number> {
    const st = await lstat(path);
    const before = entry.seen.get(path);
    entry.seen.set(path, st.mtimeMs);
    if (entry.seen.size > MAX_ENTRIES_PER_STORAGE) {
      throw new TooLargeError(`${entry.source} has more than ${MAX_ENTRIES_PER_STORAGE} entries`);
    }
    let size = 0;
    if (st.isDirectory()) {
      if (before === undefined) changed.push(path);
      for (const name of (await readdir(path)).sort())
        size += await this.scanPath(entry, join(path, name), changed);
    } else {
      size = st.size;
      if (before === undefined || st.mtimeMs > before) changed.push(path);
    }
    if (size > MAX_SIZE_PER_WATCHABLE_MOUNT) {
      throw new TooLargeError(`${entry.source} holds more than ${MAX_SIZE_PER_WATCHABLE_MOUNT} bytes`);
    }
    return size;
  }

  private async copyOne(entry: Entry, path: string): Promise<void> {
    const st = await lstat(path);
    const target = this.targetOf(entry, path);
    if (st.isDirectory()) {
      await mkdir(target, { recursive: true });
      await chmod(target, st.mode & 0o7777);
    } else {
      await mkdir(dirname(target), { recursive: true });
      if (st.isSymbolicLink()) {
        await rm(target, { force: true });
        await symlink(await readlink(path), target);
      } else {
        await copyFile(path, target);
      }
    }
    await lchown(target, st.uid, st.gid);
  }

  private targetOf(entry: Entry, path: string): string {
    const rel = relative(entry.source, path);
    return rel === "" ? entry.target : join(entry.target, rel);
  }

  private async replaceWithBind(entry: Entry, why: string): Promise<void> {
    try {
      const isDir = (await lstat(entry.source)).isDirectory();
      if (isDir) await mkdir(entry.target, { recursive: true });
      else await (await open(entry.target, "a")).close();
      await this.options.mounter.mount({
        source: entry.source,
        target: entry.target,
        fstype: "bind",
        flags: MS.BIND,
        data: "",
      });
      entry.watch = false;
      this.options.log.info("watchable mount replaced with a bind mount", {
        source: entry.source,
        reason: why,
      });
    } catch (err) {
      this.options.log.error("cannot replace watchable mount with a bind mount; still copying", {
        source: entry.source,
        error: err,
      });
    }
  }

  private async unmountQuietly(target: string): Promise<void> {
    try {
      await this.options.mounter.unmount(target, MNT_DETACH);
    } catch (err) {
      this.options.log.debug("unmount failed", { target, error: err });
    }
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
