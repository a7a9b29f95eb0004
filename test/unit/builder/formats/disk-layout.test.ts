import { describe, expect, it } from "vitest";
import { planDisk } from "../../../../builder/src/formats/disk-layout.js";

const MiB = 1024 * 1024;

describe("disk layout", () => {
  it("puts one partition from 1 MiB to the last sector, total aligned", () => {
    const l = planDisk({ fsBytes: 100 * MiB, dax: false, alignMiB: 2, signature: 1 });
    expect(l.total).toBe(102 * MiB);
    expect(l.fsOffset).toBe(MiB);
    expect(l.mbr.partitions).toEqual([{ start: 2048, sectors: (101 * MiB) / 512, bootable: false }]);
    expect(planDisk({ fsBytes: 100 * MiB, dax: false, alignMiB: 128, signature: 1 }).total).toBe(128 * MiB);
  });

  it("adds the verity partition right after the filesystem, to the end", () => {
    const l = planDisk({ fsBytes: 100 * MiB, hashBytes: 800 * 1024, dax: false, alignMiB: 2, signature: 1 });
    expect(l.total).toBe(102 * MiB);
    expect(l.hashOffset).toBe(101 * MiB);
    expect(l.mbr.partitions).toEqual([
      { start: 2048, sectors: (100 * MiB) / 512, bootable: true },
      { start: (101 * MiB) / 512, sectors: MiB / 512 },
    ]);
  });

  it("with the DAX header: outer MBR from 3 MiB, the real image (inner MBR) from 2 MiB", () => {
    const l = planDisk({ fsBytes: 100 * MiB, dax: true, alignMiB: 2, signature: 1 });
    expect(l.imageOffset).toBe(2 * MiB);
    expect(l.fsOffset).toBe(3 * MiB);
    expect(l.total).toBe(104 * MiB);
    expect(l.mbr.partitions[0]).toMatchObject({ start: 3 * 2048, sectors: (101 * MiB) / 512 });
    expect(l.innerMbr!.partitions[0]).toMatchObject({ start: 2048, sectors: (101 * MiB) / 512 });
  });
});
