// Protobuf base-128 varints, for the few places that lay out wire bytes by hand.

export function varint(value: number): number[] {
  const out: number[] = [];
  for (let n = value >>> 0; ; n >>>= 7) {
    if (n < 0x80) {
      out.push(n);
      return out;
    }
    out.push((n & 0x7f) | 0x80);
  }
}

/** Tag and length of a length-delimited field (wire type 2). */
export function lengthDelimited(fieldNumber: number, length: number): Uint8Array {
  return Uint8Array.from([...varint((fieldNumber << 3) | 2), ...varint(length)]);
}
