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
  | { kind: "oversized"; header: FrameHeader }
  /** The reader would not take the body in (no room for it); its body is being skipped. */
  | { kind: "refused"; header: FrameHeader };

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

export interface DecoderOptions {
  /**
   * Asked once a header announcing a body of at most MESSAGE_LENGTH_MAX has arrived, before any
   * of the body is kept: false skips the body unread and reports the frame as "refused".
   */
  admit?: (header: FrameHeader) => boolean;
}

/**
 * Turns a byte stream into frames, however the bytes were split across reads. A frame inside
 * one read is a view of it, never copied; a body split across reads is copied, once, into a
 * buffer of its own, allocated when its first bytes arrive (not when only a header has: a
 * header alone announcing 4 MiB costs nothing), so the reads themselves are dropped at once.
 * Bodies of oversized or refused frames are skipped without being buffered.
 */
export class FrameDecoder {
  /** A header split across reads (at most HEADER_LENGTH bytes). */
  private readonly head = Buffer.alloc(HEADER_LENGTH);
  private headFilled = 0;
  /** The frame whose body is being received, its bytes so far. */
  private pending: FrameHeader | undefined;
  private body: Buffer | undefined;
  private bodyFilled = 0;
  private skipping = 0;

  constructor(private readonly options: DecoderOptions = {}) {}

  /** Bytes held back waiting for the rest of a frame. */
  get buffered(): number {
    return this.headFilled + (this.pending ? HEADER_LENGTH + this.bodyFilled : 0);
  }

  /** In the middle of a frame: part of its header or body has arrived, or is being skipped. */
  get midFrame(): boolean {
    return this.headFilled > 0 || this.pending !== undefined || this.skipping > 0;
  }

  push(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.skipping > 0) {
        const skip = Math.min(this.skipping, chunk.length - at);
        this.skipping -= skip;
        at += skip;
        continue;
      }
      if (this.pending === undefined) {
        let header: FrameHeader;
        if (this.headFilled === 0 && chunk.length - at >= HEADER_LENGTH) {
          header = readHeader(chunk, at);
          at += HEADER_LENGTH;
        } else {
          const n = Math.min(HEADER_LENGTH - this.headFilled, chunk.length - at);
          chunk.copy(this.head, this.headFilled, at, at + n);
          this.headFilled += n;
          at += n;
          if (this.headFilled < HEADER_LENGTH) break;
          this.headFilled = 0;
          header = readHeader(this.head, 0);
        }
        if (header.length > MESSAGE_LENGTH_MAX || !(this.options.admit?.(header) ?? true)) {
          frames.push({ kind: header.length > MESSAGE_LENGTH_MAX ? "oversized" : "refused", header });
          this.skipping = header.length;
          continue;
        }
        if (chunk.length - at >= header.length) {
          frames.push({ kind: "message", header, payload: chunk.subarray(at, at + header.length) });
          at += header.length;
          continue;
        }
        this.pending = header;
        continue;
      }
      this.body ??= Buffer.allocUnsafe(this.pending.length);
      const n = Math.min(this.pending.length - this.bodyFilled, chunk.length - at);
      chunk.copy(this.body, this.bodyFilled, at, at + n);
      this.bodyFilled += n;
      at += n;
      if (this.bodyFilled === this.pending.length) {
        frames.push({ kind: "message", header: this.pending, payload: this.body });
        this.pending = undefined;
        this.body = undefined;
        this.bodyFilled = 0;
      }
    }
    return frames;
  }
}
