// kata-build image, as the list of stages it runs.
import { createContext } from "../context.js";
import type { FsType } from "../formats/kernel-cmdline.js";
import { checkRootfs } from "../stages/check-rootfs.js";
import { loadRootfs } from "../stages/load-rootfs.js";
import { makeDisk } from "../stages/make-disk.js";
import { makeFilesystem } from "../stages/make-filesystem.js";
import { makeQcow2 } from "../stages/make-qcow2.js";
import { makeVerity } from "../stages/make-verity.js";
import { writeKernelCmdline } from "../stages/write-kernel-cmdline.js";
import { writeManifest } from "../stages/write-manifest.js";
import { BuildError } from "../util/errors.js";
import { TOOL_NAME } from "../util/manifest.js";
import type { Progress } from "../util/progress.js";
import { withStaging } from "../workspace/atomic.js";

export type { FsType } from "../formats/kernel-cmdline.js";
export { qcow2Name } from "../stages/make-qcow2.js";

/** Which disk files to write: the raw image, a qcow2 image, or both. */
export type DiskFormat = "raw" | "qcow2" | "both";

export interface ImageConfig {
  rootfs: string;
  out: string;
  name: string;
  fs: FsType;
  dax: boolean;
  verity: boolean;
  alignMiB: number;
  freeMiB: number;
  epoch: number;
  /** Seeds UUIDs, salt and disk signature; by default the tree's listing digest + epoch. */
  seed?: string;
  /** Default: raw. */
  format?: DiskFormat;
}

export interface ImageResult {
  artifacts: string[];
  manifest: Record<string, unknown>;
  cmdline: string;
  verity?: { rootHash: string; salt: string; params: string };
}

export async function buildImage(config: ImageConfig, progress: Progress): Promise<ImageResult> {
  if (config.dax && config.verity) {
    throw new BuildError(
      "--dax and --verity together are not supported",
      "the two MBRs would disagree on the verity split; measured images use virtio-blk (no DAX header)",
    );
  }
  return withStaging(
    config.out,
    async (staging) => {
      const ctx = await createContext(staging, { progress, epoch: config.epoch });
      const step = <T>(name: string, run: () => Promise<T>) => progress.step(name, run);

      const input = await step("Load root filesystem", () => loadRootfs(ctx, { path: config.rootfs }));
      await step("Check root filesystem", () => checkRootfs(ctx, { tree: input.tree }));
      const seed = config.seed ?? `${input.digest}:${config.epoch}`;
      const filesystem = await step(`Make ${config.fs} filesystem`, () =>
        makeFilesystem(ctx, {
          tree: input.tree,
          fs: config.fs,
          seed,
          fromTar: input.fromTar,
          freeMiB: config.freeMiB,
        }),
      );
      const verity = config.verity
        ? await step("Make dm-verity hash tree", () => makeVerity(ctx, { filesystem: filesystem.path, seed }))
        : undefined;
      await step("Make disk image", () =>
        makeDisk(ctx, {
          name: config.name,
          filesystem,
          ...(verity ? { hashTree: { path: verity.hashPath, bytes: verity.hashBytes } } : {}),
          dax: config.dax,
          alignMiB: config.alignMiB,
          seed,
        }),
      );
      const format = config.format ?? "raw";
      if (format !== "raw") {
        await step("Make qcow2 image", () =>
          makeQcow2(ctx, { name: config.name, keepRaw: format === "both" }),
        );
      }
      const { cmdline, verity: verityRecord } = await writeKernelCmdline(ctx, {
        name: config.name,
        fs: config.fs,
        dax: config.dax,
        ...(verity ? { verity } : {}),
      });
      const manifest = await step("Write manifest", () =>
        writeManifest(ctx, {
          file: `${config.name}.manifest.json`,
          header: {
            tool: TOOL_NAME,
            command: "image",
            inputs: {
              rootfs: config.rootfs,
              fs: config.fs,
              dax: config.dax,
              verity: config.verity,
              alignMiB: config.alignMiB,
              format,
            },
          },
        }),
      );
      return {
        artifacts: ctx.artifacts,
        manifest,
        cmdline,
        ...(verityRecord ? { verity: verityRecord } : {}),
      };
    },
    { manifest: `${config.name}.manifest.json` },
  );
}
