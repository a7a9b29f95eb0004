// Stage: assemble the raw disk image: MBR(s), the DAX header if asked, the filesystem and the
// verity hash tree at their offsets. All-zero chunks are skipped, so the file stays sparse.
import { open } from "node:fs/promises";
import type { With } from "../context.js";
import { type DiskLayout, planDisk } from "../formats/disk-layout.js";
import { encodeMbr } from "../formats/mbr.js";
import { encodePfnInfo, PFN_INFO_OFFSET } from "../formats/nvdimm.js";
import { diskSignature } from "../util/seed.js";

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

/** A file to place in the disk, and its size. */
export interface DiskPart {
  path: string;
  bytes: number;
}

export interface DiskInput {
  /** File name of the disk image in the staging directory. */
  name: string;
  /** Partition 1's content. */
  filesystem: DiskPart;
  /** Partition 2's content: the verity hash tree. */
  hashTree?: DiskPart;
  /** Prepend the NVDIMM/DAX header. */
  dax: boolean;
  alignMiB: number;
  /** Seeds the disk signature. */
  seed: string;
}

export async function makeDisk(ctx: With<"staging">, input: DiskInput): Promise<DiskLayout> {
  const { name, filesystem, hashTree } = input;
  const layout = planDisk({
    fsBytes: filesystem.bytes,
    hashBytes: hashTree?.bytes,
    dax: input.dax,
    alignMiB: input.alignMiB,
    signature: diskSignature(input.seed),
  });
  const file = await open(ctx.staging.path(name), "w");
  try {
    await file.truncate(layout.total);
    await file.write(encodeMbr(layout.mbr), 0, 512, 0);
    if (layout.innerMbr) {
      await file.write(encodePfnInfo(), 0, 4096, PFN_INFO_OFFSET);
      await file.write(encodeMbr(layout.innerMbr), 0, 512, layout.imageOffset);
    }
    await copyInto(filesystem.path, file, layout.fsOffset);
    if (hashTree && layout.hashOffset !== undefined) await copyInto(hashTree.path, file, layout.hashOffset);
    await file.sync();
  } finally {
    await file.close();
  }
  ctx.artifacts.push(name);
  ctx.manifest.disk = {
    bytes: layout.total,
    daxHeader: input.dax,
    alignMiB: input.alignMiB,
    partitions: layout.mbr.partitions.map((p) => ({ start: p.start * 512, bytes: p.sectors * 512 })),
  };
  return layout;
}
