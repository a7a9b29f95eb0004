// The hash kata-agent-snapshot-check (agent/native/snapshot_check.c) computes, which this must
// match bit for bit: two 32-bit lanes over little-endian 4-byte words (a last partial word
// padded with zeros), then the file size as 8 little-endian bytes. "full" hashes the whole
// file; "sample" only its first and last 8 KiB, which for ELF files holds the headers and the
// build-id note. Cheap under emulation; it notices a changed or damaged file, it is no defence
// against a crafted one (dm-verity protects the image).
import { open } from "node:fs/promises";

export const SAMPLE_BYTES = 8192;
export type HashKind = "full" | "sample";

class Lanes {
  a = 0x811c9dc5;
  b = 0x2545f491;

  mix(bytes: Uint8Array): void {
    let i = 0;
    for (; i + 4 <= bytes.length; i += 4) {
      const w = (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) >>> 0;
      this.a = Math.imul(this.a ^ w, 0x01000193) >>> 0;
      this.b = (((this.b << 5) | (this.b >>> 27)) ^ w) >>> 0;
      this.b = Math.imul(this.b, 0x9e3779b1) >>> 0;
    }
    if (i < bytes.length) {
      const tail = new Uint8Array(4);
      tail.set(bytes.subarray(i));
      this.mix(tail);
    }
  }

  hex(): string {
    return this.a.toString(16).padStart(8, "0") + this.b.toString(16).padStart(8, "0");
  }
}

/** The file's size and hash, as a stamp line's "<size> <hash>". */
export async function sampleHash(path: string, kind: HashKind): Promise<{ size: number; hash: string }> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const lanes = new Lanes();
    const range = async (offset: number, length: number) => {
      // Chunks are multiples of 4 bytes, so only the very end can be a partial word.
      const chunk = Buffer.alloc(1 << 16);
      while (length > 0) {
        const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, length), offset);
        if (bytesRead === 0) throw new Error(`${path} ended early`);
        lanes.mix(chunk.subarray(0, bytesRead));
        offset += bytesRead;
        length -= bytesRead;
      }
    };
    if (kind === "full" || size <= 2 * SAMPLE_BYTES) await range(0, size);
    else {
      await range(0, SAMPLE_BYTES);
      await range(size - SAMPLE_BYTES, SAMPLE_BYTES);
    }
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(size));
    lanes.mix(length);
    return { size, hash: lanes.hex() };
  } finally {
    await handle.close();
  }
}
