// kata-build initrd, as the list of stages it runs.
import { createContext } from "../context.js";
import { checkRootfs } from "../stages/check-rootfs.js";
import { linkInit } from "../stages/link-init.js";
import { loadRootfs } from "../stages/load-rootfs.js";
import { type Compression, makeInitrd } from "../stages/make-initrd.js";
import { writeManifest } from "../stages/write-manifest.js";
import { BuildError } from "../util/errors.js";
import { TOOL_NAME } from "../util/manifest.js";
import type { Progress } from "../util/progress.js";
import { withStaging } from "../workspace/atomic.js";

export type { Compression } from "../stages/make-initrd.js";

export interface InitrdConfig {
  rootfs: string;
  out: string;
  name: string;
  compression: Compression;
  level?: number;
  epoch: number;
}

// zstd -9 by default: the guest kernel decompresses it (CONFIG_RD_ZSTD, rootfs/kernel/fragments
// /common/initramfs.conf). On the Debian guest (systemd flavour, 2 loaded cores) it gives 51.1 MB
// in 4-7 s, against 61.9 MB in about 10 s for gzip -6, about 56 MB in 1 s for zstd -3 and 44 MB
// in 137 s for zstd -19; long mode (--long=27) saves about 1 % more but makes the kernel allocate
// a 128 MiB window at boot, so it is not used (zstd -9's window is 4 MiB). gzip stays available
// for kernels without RD_ZSTD; -6 rather than osbuilder's -9, which takes 4x as long for 0.3 %.
export const defaultCompression: Compression = "zstd";
export const defaultLevel: Record<Compression, number> = { gzip: 6, zstd: 9, none: 0 };

export async function buildInitrd(
  config: InitrdConfig,
  progress: Progress,
): Promise<{ artifacts: string[]; manifest: Record<string, unknown> }> {
  const level = checkLevel(config.compression, config.level);
  return withStaging(
    config.out,
    async (staging) => {
      const ctx = await createContext(staging, { progress, epoch: config.epoch });
      const step = <T>(name: string, run: () => Promise<T>) => progress.step(name, run);
      const input = await step("Load root filesystem", () => loadRootfs(ctx, { path: config.rootfs }));
      const { init, agentInit } = await step("Check root filesystem", () =>
        checkRootfs(ctx, { tree: input.tree }),
      );
      const tree = await linkInit(ctx, { tree: input.tree, init, agentInit });
      await step(`Make initrd (cpio newc, ${config.compression})`, () =>
        makeInitrd(ctx, { tree, name: config.name, compression: config.compression, level }),
      );
      const manifest = await step("Write manifest", () =>
        writeManifest(ctx, {
          file: `${config.name}.manifest.json`,
          header: {
            tool: TOOL_NAME,
            command: "initrd",
            inputs: { rootfs: config.rootfs, compression: config.compression, level },
          },
        }),
      );
      return { artifacts: ctx.artifacts, manifest };
    },
    { manifest: `${config.name}.manifest.json` },
  );
}

/** The levels each compressor takes (zstd's 20-22 with --ultra, which the builder passes). */
export const levelRange: Record<Compression, { min: number; max: number } | undefined> = {
  gzip: { min: 1, max: 9 },
  zstd: { min: 1, max: 22 },
  none: undefined,
};

/** The level to use: the default, or a given one checked against the compressor's range. */
export function checkLevel(compression: Compression, level: number | undefined): number {
  if (level === undefined) return defaultLevel[compression];
  const range = levelRange[compression];
  if (!range) {
    throw new BuildError(`--level ${level} means nothing with --compression none`, "leave --level out");
  }
  if (!Number.isInteger(level) || level < range.min || level > range.max) {
    throw new BuildError(
      `--level ${level} is out of range for ${compression}: it takes ${range.min} to ${range.max}`,
      `the default is ${defaultLevel[compression]}`,
    );
  }
  return level;
}
