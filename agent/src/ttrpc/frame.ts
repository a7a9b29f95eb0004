// ttrpc framing: a 10-byte big-endian header (length, stream id, type, flags) before each
// message. This file knows bytes only, nothing of protobuf or services.

export const HEADER_LENGTH = 10;
/** Largest message body either side accepts (containerd's messageLengthMax). */
export const MESSAGE_LENGTH_MAX = 4 << 20;

export enum FrameType {
  Request = 0x01,
  Response = 0x02,
  Data = 0x03,
}

export interface FrameHeader {
  length: number;
  streamId: number;
  type: number;
  flags: number;
}

export type Frame =
  | { kind: "message"; header: FrameHeader; payload: Buffer }
  /** The header announced more than MESSAGE_LENGTH_MAX; its body is being skipped. */
  | { kind: "oversized"; header: FrameHeader };

export function encodeFrame(streamId: number, type: FrameType, payload: Uint8Array, flags = 0): Buffer {
  if (payload.length > MESSAGE_LENGTH_MAX) {
    throw new RangeError(
      `message length ${payload.length} exceeds maximum message size of ${MESSAGE_LENGTH_MAX}`,
    );
  }
  const frame = Buffer.allocUnsafe(HEADER_LENGTH + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt32BE(streamId, 4);
  frame[8] = type;
  frame[9] = flags;
  frame.set(payload, HEADER_LENGTH);
  return frame;
}

function readHeader(buf: Buffer, at: number): FrameHeader {
  return {
    length: buf.readUInt32BE(at),
    streamId: buf.readUInt32BE(at + 4),
    type: buf[at + 8] ?? 0,
    flags: buf[at + 9] ?? 0,
  };
}

/**
 * Turns a byte stream into frames, however the bytes were split across reads. Each byte is
 * copied at most once (only a frame split across chunks is joined), and bodies of oversized
 * frames are skipped without being buffered, so a hostile length cannot make the reader
 * allocate it.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private size = 0;
  private skipping = 0;

  /** Bytes held back waiting for the rest of a frame. */
  get buffered(): number {
    return this.size;
  }

  push(chunk: Buffer): Frame[] {
    if (this.skipping > 0) {
      const skip = Math.min(this.skipping, chunk.length);
      this.skipping -= skip;
      chunk = chunk.subarray(skip);
    }
    if (chunk.length) {
      this.chunks.push(chunk);
      this.size += chunk.length;
    }
    const frames: Frame[] = [];
    while (this.size >= HEADER_LENGTH) {
      const header = readHeader(this.peek(HEADER_LENGTH), 0);
      if (header.length > MESSAGE_LENGTH_MAX) {
        this.take(HEADER_LENGTH);
        const skip = Math.min(header.length, this.size);
        this.take(skip);
        this.skipping = header.length - skip;
        frames.push({ kind: "oversized", header });
        continue;
      }
      if (this.size < HEADER_LENGTH + header.length) break;
      this.take(HEADER_LENGTH);
      frames.push({ kind: "message", header, payload: this.take(header.length) });
    }
    return frames;
  }

  /** The first n buffered bytes, without consuming them. */
  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first;
    const parts: Buffer[] = [];
    let have = 0;
    for (const chunk of this.chunks) {
      parts.push(chunk);
      have += chunk.length;
      if (have >= n) break;
    }
    return Buffer.concat(parts, have);
  }

  /** Removes and returns the first n buffered bytes. */
  private take(n: number): Buffer {
    this.size -= n;
    const first = this.chunks[0];
    if (first && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0]!;
      const part = Math.min(head.length, n - filled);
      head.copy(out, filled, 0, part);
      filled += part;
      if (part === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(part);
    }
    return out;
  }
}
