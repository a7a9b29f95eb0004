// The typed face of agent/native/kata_native.c, loaded on first use.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** What `waitpid` reports for a child that has ended. */
export interface WaitStatus {
  pid: number;
  /** Set when the child exited normally. */
  exitCode: number | null;
  /** Set when the child was killed by a signal (the signal number). */
  signal: number | null;
  /** The exit code, or 128 + signal number when killed, as a shell reports it. */
  status: number;
}

/** The other end of a vsock connection. */
export interface VsockPeer {
  cid: number;
  port: number;
}

export type RebootMode = "poweroff" | "restart" | "halt";

/**
 * The addon's exports. Failing calls throw an `Error` shaped like Node's system errors:
 * `code` (`"EADDRINUSE"`), `errno` (negative, as in Node: -98) and `syscall` (`"bind"`).
 * Every fd it creates is close-on-exec.
 */
export interface Native {
  /** An AF_VSOCK stream socket bound to cid:port and listening; non-blocking. cid -1 = any. */
  vsockListen(cid: number, port: number, backlog: number): number;
  /** A connected, non-blocking AF_VSOCK socket; throws ETIMEDOUT after `timeoutMs`. */
  vsockConnect(cid: number, port: number, timeoutMs: number): number;
  /** getpeername() of a connected AF_VSOCK socket (EAFNOSUPPORT for any other kind). */
  vsockPeer(fd: number): VsockPeer;
  /** This machine's CID (IOCTL_VM_SOCKETS_GET_LOCAL_CID on /dev/vsock). */
  vsockLocalCid(): number;
  /** prctl(PR_SET_CHILD_SUBREAPER): orphans of our descendants are re-parented to us. */
  setChildSubreaper(): void;
  /** Non-blocking waitpid(pid, WNOHANG | __WALL): `null` while the child runs; ECHILD if not ours. */
  waitpid(pid: number): WaitStatus | null;
  /** Pids of our children that are zombies (from /proc/<pid>/stat), to reap with `waitpid`. */
  zombieChildren(): number[];
  /** pipe2(O_CLOEXEC). */
  pipe(): [readFd: number, writeFd: number];
  /** F_SETPIPE_SZ; returns the size the kernel chose (rounded up to a power-of-two of pages). */
  setPipeSize(fd: number, bytes: number): number;
  /** Waits up to `timeoutMs` for one fd sent with SCM_RIGHTS on a unix socket (ETIMEDOUT, ENOMSG). */
  recvFd(socketFd: number, timeoutMs: number): number;
  /** TIOCSWINSZ. */
  setWinsize(fd: number, rows: number, cols: number): void;
  /** A new pty pair, neither end becoming our controlling terminal. */
  openPty(): [master: number, slave: number];
  /**
   * Starts `file` (argv[0] included in `argv`, `env` as "NAME=value") as the leader of a new
   * session with `ttyFd` as its controlling terminal and standard streams; returns its pid,
   * which the caller must reap. Exit status 126: the terminal could not be set up; 127: exec failed.
   */
  spawnInSession(file: string, argv: readonly string[], env: readonly string[], ttyFd: number): number;
  /** One datagram to a Unix socket path ("@name": abstract), e.g. sd_notify's READY=1. */
  sendDatagram(path: string, data: string): void;
  /** setsid(); returns the new session id. */
  setsid(): number;
  /** TIOCSCTTY: make the tty on `fd` the controlling terminal of this (session leader) process. */
  setControllingTty(fd: number): void;
  /** mount(2); an empty source, fstype or data is passed as NULL. */
  mount(source: string, target: string, fstype: string, flags: number, data: string): void;
  /** umount2(2). */
  umount(target: string, flags: number): void;
  sethostname(name: string): void;
  /** sync(), then reboot(2). Only returns (by throwing) if the kernel refuses. */
  reboot(mode: RebootMode): void;
  settimeofday(sec: number, usec: number): void;
  swapon(path: string, flags: number): void;
  /** malloc_trim(0): gives free heap memory back to the kernel; true when some was released. */
  trimHeap(): boolean;
  /** Writes the bytes to /dev/random, credits 8 bits per byte and reseeds the CRNG. */
  addRandomEntropy(data: Uint8Array): void;
  /** Sets IFF_UP on the network interface `name` (SIOCSIFFLAGS). */
  linkUp(name: string): void;

  readonly MS_RDONLY: number;
  readonly MS_NOSUID: number;
  readonly MS_NODEV: number;
  readonly MS_NOEXEC: number;
  readonly MS_REMOUNT: number;
  readonly MS_BIND: number;
  readonly MS_REC: number;
  readonly MS_PRIVATE: number;
  readonly MS_SLAVE: number;
  readonly MS_SHARED: number;
  readonly MS_STRICTATIME: number;
  readonly MS_RELATIME: number;
  readonly MS_MOVE: number;
  readonly MNT_DETACH: number;
}

const FILE_NAME = "kata_native.node";
const DEV_PATH = join("agent", "native", "build", FILE_NAME);
const PACKAGED_PATH = join("agent", "dist", FILE_NAME);

let loaded: Native | undefined;

/** The addon, loaded on first call. Throws if it cannot be found or is out of date. */
export function native(): Native {
  loaded ??= load(locateNative());
  return loaded;
}

/**
 * Where the addon is: `$KATA_AGENT_NATIVE` if set (and then only there), else `kata_native.node`
 * beside the main script (the shipped esbuild bundle), else `agent/native/build/` found by walking
 * up from this module (a checkout).
 */
export function locateNative(): string {
  const explicit = process.env.KATA_AGENT_NATIVE;
  if (explicit) {
    if (existsSync(explicit)) return resolve(explicit);
    throw new Error(`KATA_AGENT_NATIVE=${explicit} does not exist; build it with \`npm run build:native\``);
  }
  const candidates: string[] = [];
  const main = process.argv[1];
  if (main) candidates.push(join(dirname(resolve(main)), FILE_NAME));
  // Started from a start-up snapshot, argv[1] is no script: the bundle's own directory (the
  // snapshot's script, or a chunk in chunks/ one level below it) holds the addon.
  const here = dirname(fileURLToPath(import.meta.url));
  candidates.push(join(here, FILE_NAME), join(dirname(here), FILE_NAME));
  for (let dir = here; ; dir = dirname(dir)) {
    // A checkout's build, or the installed package's prebuilt copy beside the agent bundle
    // (found from the library's builder/dist/lib/ too).
    candidates.push(join(dir, DEV_PATH), join(dir, PACKAGED_PATH));
    if (dirname(dir) === dir) break;
  }
  const found = candidates.find((path) => existsSync(path));
  if (found !== undefined) return found;
  throw new Error(
    `${FILE_NAME} not found; run \`npm run build:native\` or set KATA_AGENT_NATIVE. Looked in:\n  ` +
      candidates.join("\n  "),
  );
}

function load(path: string): Native {
  const module: { exports: Native } = { exports: {} as Native };
  try {
    // process.dlopen, not require(): the module loader's resolution and caching are of no use
    // for one file at a known path, and its code is a measurable part of start-up under
    // emulation. dlopen's result is untyped; the check below is what backs the annotation.
    process.dlopen(module, path);
  } catch (err) {
    // The packaged addon is built for linux-x64 (glibc); anything else needs its own build.
    const packaged = path.endsWith(PACKAGED_PATH);
    const rebuild = packaged
      ? `node ${join(dirname(dirname(path)), "native", "build.mjs")} --force --out-dir ${dirname(path)}`
      : "npm run build:native -- --force";
    throw new Error(
      `cannot load the native addon ${path} (${(err as Error).message}); build one for this machine with ` +
        `\`${rebuild}\` (it needs a C compiler and Node's headers)`,
      { cause: err },
    );
  }
  const addon = module.exports;
  // A stale build from an older kata_native.c would fail later and obscurely; fail here instead.
  const missing = REQUIRED.filter((name) => typeof addon[name] !== "function");
  if (missing.length > 0) {
    throw new Error(`${path} lacks ${missing.join(", ")}; rebuild it with \`npm run build:native\``);
  }
  return addon;
}

const REQUIRED = [
  "vsockListen",
  "vsockConnect",
  "setChildSubreaper",
  "waitpid",
  "zombieChildren",
  "pipe",
  "setPipeSize",
  "recvFd",
  "setWinsize",
  "openPty",
  "setsid",
  "setControllingTty",
  "mount",
  "umount",
  "sethostname",
  "reboot",
  "settimeofday",
  "swapon",
  "addRandomEntropy",
  "linkUp",
  "vsockPeer",
  "vsockLocalCid",
  "spawnInSession",
  "sendDatagram",
  "trimHeap",
] as const satisfies readonly (keyof Native)[];
