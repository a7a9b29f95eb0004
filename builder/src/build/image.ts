// kata-build image, as the list of stages it runs.
import { writeFile } from "node:fs/promises";
import { checkRootfs, loadRootfs } from "../stages/load-rootfs.js";
import { makeDisk } from "../stages/make-disk.js";
import { type FsType, makeFilesystem } from "../stages/make-filesystem.js";
import { TOOL_NAME } from "../stages/make-sbom.js";
import { dmModCreate, makeVerity, verityParams } from "../stages/make-verity.js";
import { writeManifest } from "../stages/write-manifest.js";
import { withStaging } from "../util/atomic.js";
import { BuildError } from "../util/errors.js";
import type { Progress } from "../util/progress.js";
import { createContext } from "./context.js";

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
}

export interface ImageResult {
  artifacts: string[];
  manifest: Record<string, unknown>;
  cmdline: string;
  verity?: { rootHash: string; salt: string; params: string };
}

/**
 * Root device parameters as the Kata runtime passes them for an image root:
 * "root=... rootflags=dax,data=ordered,errors=remount-ro ro rootfstype=ext4".
 */
export function rootParams(fs: FsType, dax: boolean, root: string): string {
  const flags = fs === "ext4" ? "data=ordered,errors=remount-ro" : "";
  const rootflags = [dax ? "dax" : "", flags].filter(Boolean).join(",");
  return [`root=${root}`, `rootfstype=${fs}`, rootflags ? `rootflags=${rootflags} ro` : "ro"].join(" ");
}

export async function buildImage(config: ImageConfig, progress: Progress): Promise<ImageResult> {
  if (config.dax && config.verity) {
    throw new BuildError(
      "--dax and --verity together are not supported",
      "the two MBRs would disagree on the verity split; measured images use virtio-blk (no DAX header)",
    );
  }
  return withStaging(config.out, async (staging) => {
    const ctx = await createContext(staging, progress, config.epoch);
    const step = <T>(name: string, run: () => Promise<T>) => progress.step(name, run);

    const input = await step("Load root filesystem", () => loadRootfs(ctx, config.rootfs));
    await step("Check root filesystem", () => checkRootfs(input.tree));
    const seed = config.seed ?? `${input.digest}:${config.epoch}`;
    const fs = await step(`Make ${config.fs} filesystem`, () =>
      makeFilesystem(ctx, input.tree, config.fs, seed, input.fromTar, config.freeMiB),
    );
    const verity = config.verity
      ? await step("Make dm-verity hash tree", () => makeVerity(ctx, fs.path, seed))
      : undefined;
    await step("Make disk image", () =>
      makeDisk(
        ctx,
        config.name,
        { fs: fs.path, fsBytes: fs.bytes, hash: verity?.hashPath, hashBytes: verity?.hashBytes },
        { dax: config.dax, alignMiB: config.alignMiB, seed },
      ),
    );

    let cmdline: string;
    let verityRecord: ImageResult["verity"];
    if (verity) {
      cmdline = `${dmModCreate(verity, "/dev/vda1", "/dev/vda2")} ${rootParams(config.fs, false, "/dev/dm-0")}`;
      const params = verityParams(verity);
      verityRecord = { rootHash: verity.rootHash, salt: verity.salt, params };
      await writeFile(staging.path(`${config.name}.root_hash.txt`), `${params}\n`);
      ctx.artifacts.push(`${config.name}.root_hash.txt`);
      ctx.manifest.verity = { ...verityRecord, dataBlocks: verity.dataBlocks, hashBytes: verity.hashBytes };
    } else {
      cmdline = rootParams(config.fs, config.dax, config.dax ? "/dev/pmem0p1" : "/dev/vda1");
    }
    await writeFile(staging.path(`${config.name}.cmdline`), `${cmdline}\n`);
    ctx.artifacts.push(`${config.name}.cmdline`);
    ctx.manifest.kernelCmdline = cmdline;
    const manifest = await step("Write manifest", () =>
      writeManifest(ctx, config.name, {
        tool: TOOL_NAME,
        command: "image",
        inputs: {
          rootfs: config.rootfs,
          fs: config.fs,
          dax: config.dax,
          verity: config.verity,
          alignMiB: config.alignMiB,
        },
      }),
    );
    return { artifacts: ctx.artifacts, manifest, cmdline, verity: verityRecord };
  });
}
