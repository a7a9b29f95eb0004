// The guest the boot check boots: an agent-as-init root filesystem (Debian by default here,
// Azure Linux with a mirror), packed as an initrd and as a dm-verity disk image, cached by a
// digest of everything that goes into it. Two boot-check files are added to the tree before
// packing (the ctl bundle and an init wrapper starting the vsock bridge); nothing else differs
// from what `kata-build rootfs --agent-init` makes.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { sourceDateEpoch } from "../context.js";
import { buildImage } from "../pipelines/image.js";
import { buildInitrd } from "../pipelines/initrd.js";
import { buildRootfs } from "../pipelines/rootfs.js";
import { sha256File } from "../util/manifest.js";
import type { Progress } from "../util/progress.js";
import { processAlive } from "../workspace/lock.js";
import { PORTS } from "./vm.js";

export interface GuestOptions {
  distro: string;
  mirror?: string;
  /** A Node.js binary for the guest instead of the distribution's. */
  node?: string;
  agentDir: string;
  dataDir: string;
  cacheDir: string;
  progress: Progress;
}

export interface Guest {
  dir: string;
  initrd: string;
  image: string;
  /** root=/dev/dm-0 dm-mod.create="..." rootfstype=... for the image. */
  imageCmdline: string;
  cached: boolean;
}

export const BOOT_CHECK_INIT = "/usr/lib/kata-agent/boot-check-init";

/** The wrapper /init: expose the agent's vsock listener on the second virtio-serial port, then be the agent. */
const INIT_SCRIPT = `#!/bin/sh
# kata-build boot only: relay the virtio-serial port ${PORTS.vsockBridge} to the agent's
# vsock listener over vsock loopback (CID 1), then become the agent (PID 1).
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sysfs /sys 2>/dev/null
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# At the lowest priority: starting a second node must not slow the agent's own start.
/usr/bin/nice -n 19 /usr/bin/node /usr/lib/kata-agent/kata-agent-ctl.mjs bridge --listen serial://${PORTS.vsockBridge} --connect vsock://1:1024 &
exec /usr/bin/kata-agent "$@"
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
  const hash = createHash("sha256");
  // The recipe's version: raised when the builder changes what goes into a guest (3: the image's
  // ext4 is made with the builder's own mke2fs.conf).
  hash.update(`boot-guest/3 initrd=zstd\0${options.distro}\0${options.mirror ?? ""}\0${INIT_SCRIPT}\0`);
  if (options.node) hash.update(`node\0${await sha256File(options.node)}\0`);
  await digestDir(hash, path.join(options.agentDir, "dist"), (n) => n.endsWith(".map"));
  await digestDir(hash, options.dataDir, (n) => n === "kernel");
  const key = hash.digest("hex").slice(0, 24);
  const flavour = options.node ? `${options.distro}-node` : options.distro;
  const dir = path.join(options.cacheDir, "guests", `${flavour}-${key}`);
  const guest = (cached: boolean): Guest => ({
    dir,
    initrd: path.join(dir, "kata-containers-initrd.img"),
    image: path.join(dir, "kata-containers.img"),
    imageCmdline: "",
    cached,
  });
  if (existsSync(path.join(dir, "image.cmdline"))) {
    options.progress.info(`guest cached: ${dir}`);
    return { ...guest(true), imageCmdline: (await readFile(path.join(dir, "image.cmdline"), "utf8")).trim() };
  }

  const work = `${dir}.building-${process.pid}`;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    const epoch = sourceDateEpoch();
    await buildRootfs(
      {
        distro: options.distro,
        init: "agent",
        out: work,
        name: "rootfs",
        data: options.dataDir,
        cache: path.join(options.cacheDir),
        agentDir: options.agentDir,
        ...(options.mirror ? { mirror: options.mirror } : {}),
        repoGpgcheck: true,
        tar: false,
        keepPackageDb: false,
        extraPackages: [],
        ...(options.node ? { node: options.node } : {}),
        epoch,
      },
      options.progress,
    );
    const root = path.join(work, "rootfs");
    await options.progress.step("Add the boot check's bridge to the guest", async () => {
      await copyFile(
        path.join(options.agentDir, "dist/kata-agent-ctl.mjs"),
        path.join(root, "usr/lib/kata-agent/kata-agent-ctl.mjs"),
      );
      await writeFile(path.join(root, BOOT_CHECK_INIT.slice(1)), INIT_SCRIPT);
      await chmod(path.join(root, BOOT_CHECK_INIT.slice(1)), 0o755);
    });
    await buildInitrd(
      { rootfs: root, out: work, name: "kata-containers-initrd.img", compression: "zstd", epoch },
      options.progress,
    );
    const image = await buildImage(
      {
        rootfs: root,
        out: work,
        name: "kata-containers.img",
        fs: "ext4",
        dax: false,
        verity: true,
        alignMiB: 2,
        freeMiB: 0,
        epoch,
      },
      options.progress,
    );
    await writeFile(path.join(work, "image.cmdline"), `${image.cmdline}\n`);
    await rm(root, { recursive: true, force: true });
    await mkdir(path.dirname(dir), { recursive: true });
    await rm(dir, { recursive: true, force: true });
    await rename(work, dir);
    await pruneGuests(path.dirname(dir), dir, options.progress);
    return { ...guest(false), imageCmdline: image.cmdline };
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    throw err;
  }
}

/** Guests kept besides the one just built: each is ~200 MB, and every agent change makes a new one. */
const KEEP_OLDER_GUESTS = 1;

/** Removes all but the newest older guests, and work directories of builds that died. */
async function pruneGuests(guestsDir: string, current: string, progress: Progress): Promise<void> {
  const entries = await readdir(guestsDir, { withFileTypes: true });
  const older: { dir: string; mtime: number }[] = [];
  for (const e of entries) {
    const dir = path.join(guestsDir, e.name);
    if (!e.isDirectory() || dir === current) continue;
    const building = /\.building-(\d+)$/.exec(e.name);
    if (building) {
      if (!processAlive(Number(building[1]))) await rm(dir, { recursive: true, force: true });
      continue;
    }
    older.push({ dir, mtime: (await stat(dir)).mtimeMs });
  }
  older.sort((a, b) => b.mtime - a.mtime);
  for (const { dir } of older.slice(KEEP_OLDER_GUESTS)) {
    await rm(dir, { recursive: true, force: true });
    progress.info(`removed an older cached guest: ${dir}`);
  }
}
