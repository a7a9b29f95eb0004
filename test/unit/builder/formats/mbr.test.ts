import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeMbr, encodeMbr, MiB } from "../../../../builder/src/formats/mbr.js";

describe("MBR", () => {
  const mbr = {
    signature: 0xdeadbeef,
    partitions: [
      { start: 2048, sectors: 200 * 2048, bootable: true },
      { start: 201 * 2048, sectors: 2048 * 3 },
    ],
  };

  it("round-trips", () => {
    const sector = encodeMbr(mbr);
    expect(sector.length).toBe(512);
    expect(sector[510]).toBe(0x55);
    expect(sector[511]).toBe(0xaa);
    expect(decodeMbr(sector)).toEqual({
      signature: 0xdeadbeef,
      partitions: [
        { start: 2048, sectors: 409600, type: 0x83, bootable: true },
        { start: 411648, sectors: 6144, type: 0x83, bootable: false },
      ],
    });
  });

  it("is read back by sfdisk", () => {
    const dir = mkdtempSync(join(tmpdir(), "mbr-"));
    const disk = join(dir, "disk.img");
    const buf = Buffer.alloc(204 * MiB);
    encodeMbr(mbr).copy(buf, 0);
    writeFileSync(disk, buf);
    const table = JSON.parse(execFileSync("sfdisk", ["--json", disk], { encoding: "utf8" })).partitiontable;
    expect(table.label).toBe("dos");
    expect(table.id).toBe("0xdeadbeef");
    expect(
      table.partitions.map((p: { start: number; size: number; type: string }) => [p.start, p.size, p.type]),
    ).toEqual([
      [2048, 409600, "83"],
      [411648, 6144, "83"],
    ]);
    expect(table.partitions[0].bootable).toBe(true);
  });

  it("rejects overlapping or oversized partitions", () => {
    expect(() =>
      encodeMbr({
        signature: 1,
        partitions: [
          { start: 2048, sectors: 4096 },
          { start: 4096, sectors: 10 },
        ],
      }),
    ).toThrow(/overlap/);
    expect(() => encodeMbr({ signature: 1, partitions: [{ start: 2048, sectors: 0xffffffff }] })).toThrow(
      /2 TiB/,
    );
    expect(() => decodeMbr(Buffer.alloc(512))).toThrow(/0x55AA/);
  });
});
