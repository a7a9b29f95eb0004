// Stage: assemble the raw disk image: MBR(s), the DAX header if asked, the filesystem and the
// verity hash tree at their offsets. All-zero chunks are skipped, so the file stays sparse.
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import type { BuildContext } from "../build/context.js";
import { type DiskLayout, planDisk } from "../formats/disk-layout.js";
import { encodeMbr } from "../formats/mbr.js";
import { encodePfnInfo, PFN_INFO_OFFSET } from "../formats/nvdimm.js";

const CHUNK = 1024 * 1024;

async function copyInto(
  src: string,
  dest: import("node:fs/promises").FileHandle,
  offset: number,
): Promise<void> {
  const input = await open(src, "r");
  try {
    const buf = Buffer.alloc(CHUNK);
    let pos = 0;
    for (;;) {
      const { bytesRead } = await input.read(buf, 0, CHUNK, pos);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      if (chunk.some((b) => b !== 0)) await dest.write(chunk, 0, bytesRead, offset + pos);
      pos += bytesRead;
    }
  } finally {
    await input.close();
  }
}

export function diskSignature(seed: string): number {
  return createHash("sha256").update(`mbr-signature\0${seed}`).digest().readUInt32LE(0);
}

export async function makeDisk(
  ctx: BuildContext,
  name: string,
  parts: { fs: string; fsBytes: number; hash?: string; hashBytes?: number },
  options: { dax: boolean; alignMiB: number; seed: string },
): Promise<DiskLayout> {
  const layout = planDisk({
    fsBytes: parts.fsBytes,
    hashBytes: parts.hashBytes,
    dax: options.dax,
    alignMiB: options.alignMiB,
    signature: diskSignature(options.seed),
  });
  const file = await open(ctx.staging.path(name), "w");
  try {
    await file.truncate(layout.total);
    await file.write(encodeMbr(layout.mbr), 0, 512, 0);
    if (layout.innerMbr) {
      await file.write(encodePfnInfo(), 0, 4096, PFN_INFO_OFFSET);
      await file.write(encodeMbr(layout.innerMbr), 0, 512, layout.imageOffset);
    }
    await copyInto(parts.fs, file, layout.fsOffset);
    if (parts.hash && layout.hashOffset !== undefined) await copyInto(parts.hash, file, layout.hashOffset);
    await file.sync();
  } finally {
    await file.close();
  }
  ctx.artifacts.push(name);
  ctx.manifest.disk = {
    bytes: layout.total,
    daxHeader: options.dax,
    alignMiB: options.alignMiB,
    partitions: layout.mbr.partitions.map((p) => ({ start: p.start * 512, bytes: p.sectors * 512 })),
  };
  return layout;
}
