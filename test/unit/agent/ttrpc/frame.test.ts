import { describe, expect, it } from "vitest";
import {
  encodeFrame,
  type Frame,
  FrameDecoder,
  FrameType,
  HEADER_LENGTH,
  MESSAGE_LENGTH_MAX,
} from "../../../../agent/src/ttrpc/frame.js";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

function messages(frames: Frame[]) {
  return frames.map((f) =>
    f.kind === "message"
      ? { id: f.header.streamId, type: f.header.type, flags: f.header.flags, body: f.payload.toString("hex") }
      : { id: f.header.streamId, oversized: f.header.length },
  );
}

describe("ttrpc frame codec", () => {
  it("encodes a Health.Check request and its reply byte for byte", () => {
    // Health.Check request on stream 1: len=20, id=1, type=Request, flags=0.
    const body = Buffer.concat([hex("0a0b"), Buffer.from("grpc.Health"), hex("1205"), Buffer.from("Check")]);
    const frame = encodeFrame(1, FrameType.Request, body);
    expect(frame.subarray(0, HEADER_LENGTH)).toEqual(hex("00000014 00000001 01 00"));
    expect(frame.length).toBe(HEADER_LENGTH + 20);
    expect(encodeFrame(1, FrameType.Response, hex("0a00 12020801"))).toEqual(
      hex("00000006 00000001 02 00 0a00 12020801"),
    );
  });

  it("decodes a frame split across many reads, one byte at a time", () => {
    const frame = encodeFrame(7, FrameType.Request, Buffer.from("hello world"), 0x02);
    const decoder = new FrameDecoder();
    const out: Frame[] = [];
    for (const byte of frame) out.push(...decoder.push(Buffer.from([byte])));
    expect(messages(out)).toEqual([
      { id: 7, type: 1, flags: 2, body: Buffer.from("hello world").toString("hex") },
    ]);
    expect(decoder.buffered).toBe(0);
  });

  it("decodes many frames delivered in one read, and keeps a trailing partial one", () => {
    const frames = [1, 3, 5].map((id) => encodeFrame(id, FrameType.Request, Buffer.alloc(id, id)));
    const next = encodeFrame(9, FrameType.Request, Buffer.from("abcdef"));
    const decoder = new FrameDecoder();
    const out = decoder.push(Buffer.concat([...frames, next.subarray(0, 13)]));
    expect(out.map((f) => f.header.streamId)).toEqual([1, 3, 5]);
    expect(decoder.buffered).toBe(13);
    const rest = decoder.push(next.subarray(13));
    expect(messages(rest)).toEqual([
      { id: 9, type: 1, flags: 0, body: Buffer.from("abcdef").toString("hex") },
    ]);
  });

  it("accepts empty bodies and a frame of exactly the maximum size", () => {
    const decoder = new FrameDecoder();
    const empty = decoder.push(encodeFrame(1, FrameType.Request, Buffer.alloc(0)));
    expect(messages(empty)).toEqual([{ id: 1, type: 1, flags: 0, body: "" }]);
    const max = encodeFrame(3, FrameType.Request, Buffer.alloc(MESSAGE_LENGTH_MAX, 1));
    const out = decoder.push(max);
    expect(out).toHaveLength(1);
    expect(out[0]?.kind === "message" && out[0].payload.length).toBe(MESSAGE_LENGTH_MAX);
  });

  it("refuses to encode a body above 4 MiB", () => {
    expect(() => encodeFrame(1, FrameType.Response, Buffer.alloc(MESSAGE_LENGTH_MAX + 1))).toThrow(
      /exceeds maximum/,
    );
  });

  it("reports an oversized frame at once and skips its body without buffering it", () => {
    const decoder = new FrameDecoder();
    const header = Buffer.alloc(HEADER_LENGTH);
    header.writeUInt32BE(MESSAGE_LENGTH_MAX + 100, 0);
    header.writeUInt32BE(11, 4);
    header[8] = FrameType.Request;
    const first = decoder.push(header);
    expect(messages(first)).toEqual([{ id: 11, oversized: MESSAGE_LENGTH_MAX + 100 }]);
    // The body arrives in pieces and is dropped; nothing is held.
    let skipped = 0;
    const piece = Buffer.alloc(1 << 20, 0xee);
    while (skipped + piece.length <= MESSAGE_LENGTH_MAX + 100) {
      expect(decoder.push(piece)).toEqual([]);
      expect(decoder.buffered).toBe(0);
      skipped += piece.length;
    }
    const tail = Buffer.alloc(MESSAGE_LENGTH_MAX + 100 - skipped, 0xee);
    const after = decoder.push(Buffer.concat([tail, encodeFrame(13, FrameType.Request, Buffer.from("ok"))]));
    expect(messages(after)).toEqual([{ id: 13, type: 1, flags: 0, body: Buffer.from("ok").toString("hex") }]);
  });

  it("decodes a stream cut at every possible point the same way", () => {
    const stream = Buffer.concat([
      encodeFrame(1, FrameType.Request, Buffer.from("first")),
      encodeFrame(3, FrameType.Data, Buffer.from("second!")),
      encodeFrame(5, FrameType.Response, Buffer.alloc(0)),
    ]);
    const whole = messages(new FrameDecoder().push(stream));
    for (let cut = 0; cut <= stream.length; cut++) {
      const decoder = new FrameDecoder();
      const got = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
      expect(messages(got)).toEqual(whole);
    }
  });

  it("asks before keeping a body, and skips a refused one unread", () => {
    const seen: number[] = [];
    const decoder = new FrameDecoder({
      admit: (h) => {
        seen.push(h.streamId);
        return h.length <= 100;
      },
    });
    const big = encodeFrame(1, FrameType.Request, Buffer.alloc(5000, 7));
    const small = encodeFrame(3, FrameType.Request, Buffer.from("ok"));
    const out = [
      ...decoder.push(big.subarray(0, 12)),
      ...decoder.push(big.subarray(12, 3000)),
      ...decoder.push(Buffer.concat([big.subarray(3000), small])),
    ];
    expect(seen).toEqual([1, 3]);
    expect(out.map((f) => [f.kind, f.header.streamId])).toEqual([
      ["refused", 1],
      ["message", 3],
    ]);
    // Nothing of the refused body was kept.
    expect(decoder.buffered).toBe(0);
    expect(decoder.midFrame).toBe(false);
  });

  it("copies a body split across reads into one buffer, holding none of the reads", () => {
    const decoder = new FrameDecoder();
    const body = Buffer.alloc(100_000, 9);
    const frame = encodeFrame(5, FrameType.Request, body);
    const parts = [frame.subarray(0, 4), frame.subarray(4, 50_000), frame.subarray(50_000)].map((p) =>
      Buffer.from(p),
    );
    expect(decoder.push(parts[0]!)).toEqual([]);
    expect(decoder.midFrame).toBe(true);
    expect(decoder.push(parts[1]!)).toEqual([]);
    expect(decoder.buffered).toBe(50_000);
    const [done] = decoder.push(parts[2]!);
    expect(done?.kind).toBe("message");
    const payload = (done as { payload: Buffer }).payload;
    expect(payload.equals(body)).toBe(true);
    for (const p of parts) expect(payload.buffer).not.toBe(p.buffer);
    // A frame inside one read is a view of it: no copy.
    const whole = Buffer.from(encodeFrame(7, FrameType.Request, Buffer.from("abc")));
    const [view] = decoder.push(whole);
    expect((view as { payload: Buffer }).payload.buffer).toBe(whole.buffer);
  });
});
