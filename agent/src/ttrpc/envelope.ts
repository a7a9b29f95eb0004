// The ttrpc Request envelope (service=1, method=2, payload=3, timeout_nano=4, metadata=5 of
// {key=1, value=2}), decoded by hand: it wraps every call, and protobuf-es's reflective decoder
// spent more time and garbage on these five fields than the rest of a ReadStdout call's
// request handling. Unknown fields are skipped as protobuf requires; anything malformed throws.

export interface RequestEnvelope {
  service: string;
  method: string;
  payload: Uint8Array;
  timeoutNano: bigint;
  metadata: { key: string; value: string }[];
}

/** proto3 strings must be valid UTF-8; protobuf-es and Go refuse anything else, and so do we. */
const utf8 = new TextDecoder("utf-8", { fatal: true });

class Reader {
  pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly end = buf.length,
  ) {}

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint below 2^53 as a number (tags, lengths). */
  uint(): number {
    let value = 0;
    for (let shift = 0, scale = 1; shift < 53; shift += 7, scale *= 128) {
      if (this.pos >= this.end) throw new Error("premature end of varint");
      const byte = this.buf[this.pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
    }
    throw new Error("varint too long");
  }

  /** A 64-bit varint as a signed bigint (int64). */
  int64(): bigint {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) throw new Error("premature end of varint");
      const byte = this.buf[this.pos++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asIntN(64, value);
    }
    throw new Error("varint too long");
  }

  bytes(): Uint8Array {
    const length = this.uint();
    const start = this.pos;
    if (length > this.end - start) throw new Error("premature end of length-delimited field");
    this.pos = start + length;
    return this.buf.subarray(start, this.pos);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.uint64Skip();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        this.advance(4);
        return;
      default:
        throw new Error(`unsupported wire type ${wireType}`);
    }
  }

  private uint64Skip(): void {
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error("premature end of varint");
      if (this.buf[this.pos++]! < 0x80) return;
    }
    throw new Error("varint too long");
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) throw new Error("premature end of fixed-size field");
    this.pos += n;
  }
}

/** A field's value must come with the wire type its declaration implies. */
function expect(field: number, wireType: number, wanted: number): void {
  if (wireType !== wanted) throw new Error(`field ${field} has wire type ${wireType}, expected ${wanted}`);
}

export function decodeRequest(buf: Uint8Array): RequestEnvelope {
  const r = new Reader(buf);
  const request: RequestEnvelope = {
    service: "",
    method: "",
    payload: new Uint8Array(0),
    timeoutNano: 0n,
    metadata: [],
  };
  while (!r.done) {
    const tag = r.uint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    switch (field) {
      case 1:
        expect(field, wireType, 2);
        request.service = utf8.decode(r.bytes());
        break;
      case 2:
        expect(field, wireType, 2);
        request.method = utf8.decode(r.bytes());
        break;
      case 3:
        expect(field, wireType, 2);
        request.payload = r.bytes();
        break;
      case 4:
        expect(field, wireType, 0);
        request.timeoutNano = r.int64();
        break;
      case 5:
        expect(field, wireType, 2);
        request.metadata.push(decodeKeyValue(r.bytes()));
        break;
      default:
        if (field === 0) throw new Error("field number 0 is invalid");
        r.skip(wireType);
    }
  }
  return request;
}

function decodeKeyValue(buf: Uint8Array): { key: string; value: string } {
  const r = new Reader(buf);
  const kv = { key: "", value: "" };
  while (!r.done) {
    const tag = r.uint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field === 1 || field === 2) {
      expect(field, wireType, 2);
      kv[field === 1 ? "key" : "value"] = utf8.decode(r.bytes());
    } else {
      if (field === 0) throw new Error("field number 0 is invalid");
      r.skip(wireType);
    }
  }
  return kv;
}
