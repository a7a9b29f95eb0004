// The guest the boot check and `kata-build vm` boot: a root filesystem as `kata-build rootfs`
// makes it (Debian by default here, Azure Linux with a mirror; the agent as init, or systemd
// starting it), cached by a digest of everything that goes into it. The tree stays in the cache
// and each form is packed from it on first use: the initrd, and disk images by filesystem, hash
// tree and DAX header. Two boot-check files are added to the tree first: the ctl bundle, and the
// relay of a virtio-serial port to the agent's vsock listener (an init wrapper when the agent is
// init, a systemd unit otherwise); nothing else differs from what `kata-build rootfs` makes.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import {
  chmod,
  copyFile,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import path from "node:path";
import { sourceDateEpoch } from "../context.js";
import type { InitMode } from "../distro/types.js";
import { type FsType, parseVerityParams, type VerityParams } from "../formats/kernel-cmdline.js";
import { buildImage } from "../pipelines/image.js";
import { buildInitrd } from "../pipelines/initrd.js";
import { buildRootfs } from "../pipelines/rootfs.js";
import { sha256File } from "../util/manifest.js";
import type { Progress } from "../util/progress.js";
import { processAlive, withLock } from "../workspace/lock.js";
import { NODE_BASELINE_MARKER } from "./console.js";
import type { BootImage, BootRoot } from "./profiles.js";
import { PORTS } from "./vm.js";

export interface GuestOptions {
  distro: string;
  /** The agent as PID 1 (the default), or systemd starting kata-agent.service. */
  init?: InitMode;
  mirror?: string;
  /** A Node.js binary for the guest instead of the distribution's. */
  node?: string;
  agentDir: string;
  dataDir: string;
  cacheDir: string;
  progress: Progress;
}

/** Which disk image: filesystem, dm-verity hash tree, NVDIMM/DAX header. */
export interface ImageVariant {
  fs: FsType;
  verity: boolean;
  dax: boolean;
}

export interface Guest {
  dir: string;
  init: InitMode;
  /** True when the root filesystem came from the cache. */
  cached: boolean;
  /** The initrd (zstd), packed on first use. */
  initrd(): Promise<string>;
  /** A disk image, packed on first use. */
  image(variant: ImageVariant): Promise<BootImage>;
}

/** The agent-as-init guest's wrapper /init (init= or rdinit=): the bridge, then the agent. */
export const BOOT_CHECK_INIT = "/usr/lib/kata-agent/boot-check-init";
/** The bench's init: times the guest's `node -e 0` instead of starting the agent. */
export const NODE_BASELINE_INIT = "/usr/lib/kata-agent/boot-check-node-baseline";

const BRIDGE_COMMAND = `/usr/bin/nice -n 19 /usr/bin/node /usr/lib/kata-agent/kata-agent-ctl.mjs bridge --listen serial://${PORTS.vsockBridge} --connect vsock://1:1024`;

const INIT_SCRIPT = `#!/bin/sh
# kata-build boot only: relay the virtio-serial port ${PORTS.vsockBridge} to the agent's
# vsock listener over vsock loopback (CID 1), then become the agent (PID 1).
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sysfs /sys 2>/dev/null
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# At the lowest priority: starting a second node must not slow the agent's own start.
${BRIDGE_COMMAND} &
exec /usr/bin/kata-agent "$@"
`;

/** The same relay in a systemd guest: a unit the agent's target pulls in. */
const BRIDGE_UNIT = `# kata-build boot only: relay the virtio-serial port ${PORTS.vsockBridge} to the agent's
# vsock listener over vsock loopback (CID 1).
[Unit]
Description=kata-build boot check: virtio-serial to vsock bridge
After=kata-agent.service

[Service]
ExecStart=${BRIDGE_COMMAND}
StandardOutput=tty
StandardError=tty
`;
const BRIDGE_UNIT_NAME = "kata-boot-check-bridge.service";

/**
 * Times `node -e 0` on node's own clock (from node's start to its exit, as the agent's "agent
 * ready" line times the agent's start), first with nothing cached, as the agent starts at boot,
 * then twice more; then powers off (the guest has no poweroff program: node asks the kernel).
 */
const NODE_BASELINE_SCRIPT = `#!/bin/sh
# kata-build bench only: how long this guest's node takes to run nothing.
for run in 1 2 3; do
  /usr/bin/node -e "process.on('exit', () => console.log('${NODE_BASELINE_MARKER} run $run: ' + performance.now().toFixed(1) + ' ms'))"
done
echo "${NODE_BASELINE_MARKER} done"
exec /usr/bin/node -e "require('/usr/lib/kata-agent/kata_native.node').reboot('poweroff')"
`;

async function digestDir(
  hash: ReturnType<typeof createHash>,
  dir: string,
  skip: (name: string) => boolean,
): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (skip(entry.name)) continue;
    const full = path.join(dir, entry.name);
    hash.update(`${entry.name}\0`);
    if (entry.isDirectory()) await digestDir(hash, full, skip);
    else if (entry.isFile()) hash.update(await readFile(full));
  }
}

export async function ensureGuest(options: GuestOptions): Promise<Guest> {
  const init = options.init ?? "agent";
  const hash = createHash("sha256");
  // The recipe's version: raised when the builder changes what goes into a guest (4: the tree
  // is kept and forms are packed on demand; systemd guests).
  hash.update(`boot-guest/4\0${options.distro}\0${init}\0${options.mirror ?? ""}\0`);
  hash.update(`${INIT_SCRIPT}\0${BRIDGE_UNIT}\0${NODE_BASELINE_SCRIPT}\0`);
  if (options.node) hash.update(`node\0${await sha256File(options.node)}\0`);
  await digestDir(hash, path.join(options.agentDir, "dist"), (n) => n.endsWith(".map"));
  await digestDir(hash, options.dataDir, (n) => n === "kernel");
  const key = hash.digest("hex").slice(0, 24);
  const flavour = `${options.distro}-${init}${options.node ? "-node" : ""}`;
  const guests = path.join(options.cacheDir, GUESTS_DIR);
  const dir = path.join(guests, `${flavour}-${key}`);
  const root = path.join(dir, "rootfs");
  const lock = `${dir}.lock`;
  await mkdir(guests, { recursive: true });
  const locked = <T>(run: () => Promise<T>) =>
    withLock(lock, run, {
      staleMs: Number.POSITIVE_INFINITY,
      onWait: (pid) => options.progress.info(`waiting for kata-build (pid ${pid ?? "?"}) building ${dir}`),
    });

  const cached = await locked(async () => {
    if (existsSync(path.join(dir, "rootfs.done"))) return true;
    await buildTree(options, init, dir);
    await pruneGuests(guests, flavour, dir, options.progress);
    await pruneLegacyGuests(options.cacheDir, options.progress);
    return false;
  });
  options.progress.info(`guest ${cached ? "cached" : "built"}: ${dir}`);
  const epoch = sourceDateEpoch();

  return {
    dir,
    init,
    cached,
    initrd: () =>
      locked(async () => {
        const out = path.join(dir, "initrd");
        const file = path.join(out, "kata-containers-initrd.img");
        if (!existsSync(file)) {
          await buildInitrd(
            { rootfs: root, out, name: "kata-containers-initrd.img", compression: "zstd", epoch },
            options.progress,
          );
        }
        return file;
      }),
    image: (variant) =>
      locked(async () => {
        const out = path.join(dir, variantName(variant));
        const name = "kata-containers.img";
        const file = path.join(out, name);
        if (!existsSync(file)) {
          await buildImage(
            {
              rootfs: root,
              out,
              name,
              fs: variant.fs,
              dax: variant.dax,
              verity: variant.verity,
              alignMiB: 2,
              freeMiB: 0,
              epoch,
            },
            options.progress,
          );
        }
        return {
          path: file,
          fs: variant.fs,
          dax: variant.dax,
          ...(variant.verity ? { verity: await readVerity(path.join(out, `${name}.root_hash.txt`)) } : {}),
        };
      }),
  };
}

/** The image the boot check boots unless told otherwise: ext4 with a dm-verity hash tree. */
export const DEFAULT_IMAGE: ImageVariant = { fs: "ext4", verity: true, dax: false };

/** What one boot boots: the guest's initrd, or one of its images. */
export async function bootRoot(
  guest: Guest,
  form: BootRoot["kind"],
  variant: ImageVariant = DEFAULT_IMAGE,
): Promise<BootRoot> {
  if (form === "initrd") return { kind: "initrd", path: await guest.initrd() };
  return { kind: "image", ...(await guest.image(variant)) };
}

function variantName(v: ImageVariant): string {
  return ["image", v.fs, ...(v.verity ? ["verity"] : []), ...(v.dax ? ["dax"] : [])].join("-");
}

async function readVerity(file: string): Promise<VerityParams> {
  return parseVerityParams(await readFile(file, "utf8"));
}

/** Builds the root filesystem into `dir`/rootfs, with the boot check's additions. */
async function buildTree(options: GuestOptions, init: InitMode, dir: string): Promise<void> {
  const work = `${dir}.building-${process.pid}`;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    await buildRootfs(
      {
        distro: options.distro,
        init,
        out: work,
        name: "rootfs",
        data: options.dataDir,
        cache: options.cacheDir,
        agentDir: options.agentDir,
        ...(options.mirror ? { mirror: options.mirror } : {}),
        repoGpgcheck: true,
        tar: false,
        keepPackageDb: false,
        extraPackages: [],
        // The boot check's own needs, besides the agent's: the bridge's nice, and the uname its
        // debug console command runs.
        keep: ["/usr/bin/nice", "/usr/bin/uname"],
        snapshot: true,
        ...(options.node ? { node: options.node } : {}),
        epoch: sourceDateEpoch(),
      },
      options.progress,
    );
    const root = path.join(work, "rootfs");
    await options.progress.step("Add the boot check's bridge to the guest", () =>
      addBridge(root, init, options.agentDir),
    );
    await writeFile(path.join(work, "rootfs.done"), `${new Date().toISOString()}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(work, dir);
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    throw err;
  }
}

async function addBridge(root: string, init: InitMode, agentDir: string): Promise<void> {
  const inRoot = (p: string) => path.join(root, p.slice(1));
  await copyFile(
    path.join(agentDir, "dist/kata-agent-ctl.mjs"),
    inRoot("/usr/lib/kata-agent/kata-agent-ctl.mjs"),
  );
  await writeFile(inRoot(NODE_BASELINE_INIT), NODE_BASELINE_SCRIPT);
  await chmod(inRoot(NODE_BASELINE_INIT), 0o755);
  if (init === "agent") {
    await writeFile(inRoot(BOOT_CHECK_INIT), INIT_SCRIPT);
    await chmod(inRoot(BOOT_CHECK_INIT), 0o755);
    return;
  }
  const unit = inRoot(`/usr/lib/systemd/system/${BRIDGE_UNIT_NAME}`);
  await writeFile(unit, BRIDGE_UNIT);
  await chmod(unit, 0o644);
  const wants = inRoot("/etc/systemd/system/kata-containers.target.wants");
  await mkdir(wants, { recursive: true });
  await symlink(`/usr/lib/systemd/system/${BRIDGE_UNIT_NAME}`, path.join(wants, BRIDGE_UNIT_NAME));
}

/**
 * Where guests are cached. Not `guests/`, where builders before this layout kept theirs: they
 * prune every directory there but their newest, which would remove these while in use.
 */
const GUESTS_DIR = "boot-guests";

/** Guests of one flavour kept besides the one in use: each is a few hundred MB. */
const KEEP_OLDER_GUESTS = 1;

/**
 * Removes all but the newest older guests of this flavour (distribution, init mode, node), and
 * work directories of builds that died. Other flavours are left alone.
 */
async function pruneGuests(
  guestsDir: string,
  flavour: string,
  current: string,
  progress: Progress,
): Promise<void> {
  const entries = await readdir(guestsDir, { withFileTypes: true });
  const older: { dir: string; mtime: number }[] = [];
  const ours = new RegExp(`^${flavour.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-[0-9a-f]{24}$`);
  for (const e of entries) {
    const dir = path.join(guestsDir, e.name);
    if (!e.isDirectory() || dir === current) continue;
    const building = /\.building-(\d+)$/.exec(e.name);
    if (building) {
      if (!processAlive(Number(building[1]))) await rm(dir, { recursive: true, force: true });
      continue;
    }
    if (ours.test(e.name)) older.push({ dir, mtime: (await stat(dir)).mtimeMs });
  }
  older.sort((a, b) => b.mtime - a.mtime);
  for (const { dir } of older.slice(KEEP_OLDER_GUESTS)) {
    await rm(dir, { recursive: true, force: true });
    progress.info(`removed an older cached guest: ${dir}`);
  }
}

/** Unused this long, a guest of the earlier layout (`guests/`) is removed. */
const LEGACY_UNUSED_MS = 2 * 24 * 3600_000;

async function pruneLegacyGuests(cacheDir: string, progress: Progress): Promise<void> {
  const legacy = path.join(cacheDir, "guests");
  const entries = await readdir(legacy, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const dir = path.join(legacy, e.name);
    if (!e.isDirectory() || Date.now() - (await stat(dir)).mtimeMs < LEGACY_UNUSED_MS) continue;
    await rm(dir, { recursive: true, force: true });
    progress.info(`removed a guest of the earlier cache layout: ${dir}`);
  }
}
