import { describe, expect, it } from "vitest";
import { decodePfnInfo, encodePfnInfo, fletcher64 } from "../../../../builder/src/formats/nvdimm.js";

// A slow, obviously-correct fletcher64 in BigInt arithmetic, to check the fast one against.
function reference(block: Buffer): bigint {
  let lo = 0n;
  let hi = 0n;
  for (let i = 0; i + 4 <= block.length; i += 4) {
    lo = (lo + BigInt(block.readUInt32LE(i))) % 2n ** 32n;
    hi = hi + lo;
  }
  return ((hi % 2n ** 32n) << 32n) | lo;
}

describe("NVDIMM PFN info block", () => {
  it("computes fletcher64 like the kernel's nd_fletcher64", () => {
    const words = Buffer.alloc(16);
    words.writeUInt32LE(1, 0);
    words.writeUInt32LE(2, 4);
    words.writeUInt32LE(3, 8);
    words.writeUInt32LE(4, 12);
    // lo = 1+2+3+4 = 10; hi = 1+3+6+10 = 20
    expect(fletcher64(words)).toBe((20n << 32n) | 10n);
    const big = Buffer.alloc(4096, 0xff);
    expect(fletcher64(big)).toBe(reference(big));
    const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 0xff));
    expect(fletcher64(random)).toBe(reference(random));
  });

  it("writes the fields of struct nd_pfn_sb and a valid checksum", () => {
    const sb = encodePfnInfo();
    expect(sb.length).toBe(4096);
    expect(sb.toString("ascii", 0, 16)).toBe("NVDIMM_PFN_INFO\0");
    expect(sb.readBigUInt64LE(56)).toBe(2n * 1024n * 1024n); // dataoff
    expect(sb.readUInt32LE(72)).toBe(1); // PFN_MODE_RAM
    expect(sb.readUInt32LE(84)).toBe(2 * 1024 * 1024); // align
    expect(sb.readUInt16LE(54)).toBe(2); // version_minor
    const copy = Buffer.from(sb);
    copy.writeBigUInt64LE(0n, 4088);
    expect(sb.readBigUInt64LE(4088)).toBe(reference(copy));
    expect(decodePfnInfo(sb)).toMatchObject({
      dataOffset: 2097152,
      align: 2097152,
      versionMinor: 2,
      mode: 1,
    });
  });

  it("detects a corrupted block", () => {
    const sb = encodePfnInfo();
    sb[100] = 1;
    expect(() => decodePfnInfo(sb)).toThrow(/checksum/);
  });
});
