// The hand-written ttrpc Request decoder against protobuf-es, the reference, on the same bytes:
// every field, metadata, negative and huge timeouts, unknown fields of every wire type, and the
// malformed inputs both must refuse.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { RequestSchema } from "../../../../agent/gen/ttrpc/ttrpc_pb.js";
import { decodeRequest } from "../../../../agent/src/ttrpc/envelope.js";

const reference = (bytes: Uint8Array) => {
  const r = fromBinary(RequestSchema, bytes);
  return {
    service: r.service,
    method: r.method,
    payload: Array.from(r.payload),
    timeoutNano: r.timeoutNano,
    metadata: r.metadata.map(({ key, value }) => ({ key, value })),
  };
};
const ours = (bytes: Uint8Array) => {
  const r = decodeRequest(bytes);
  return { ...r, payload: Array.from(r.payload) };
};

/** Bytes of unknown fields 9-13 of each wire type, appended to a valid request. */
const unknownFields = Uint8Array.from([
  ...[0x48, 0x96, 0x01], // field 9, varint 150
  ...[0x51, 1, 2, 3, 4, 5, 6, 7, 8], // field 10, fixed64
  ...[0x5a, 0x03, 0x61, 0x62, 0x63], // field 11, length-delimited "abc"
  ...[0x65, 1, 2, 3, 4], // field 12, fixed32
]);

describe("decodeRequest", () => {
  it("decodes what protobuf-es encodes, field for field", () => {
    const cases = [
      {},
      { service: "grpc.Health", method: "Check" },
      {
        service: "grpc.AgentService",
        method: "ReadStdout",
        payload: Uint8Array.from([10, 1, 99, 24, 128, 128, 2]),
      },
      { service: "s", method: "m", timeoutNano: 30_000_000_000n },
      { service: "s", method: "m", timeoutNano: -1n },
      { service: "s", method: "m", timeoutNano: 9223372036854775807n },
      { service: "s", method: "m", timeoutNano: -9223372036854775808n },
      {
        service: "ünïcode ✓",
        method: "Méthod",
        metadata: [
          { key: "k1", value: "v1" },
          { key: "k1", value: "v2" },
          { key: "", value: "" },
        ],
      },
      { payload: new Uint8Array(70_000).fill(7) },
    ];
    for (const init of cases) {
      const bytes = toBinary(RequestSchema, create(RequestSchema, init));
      expect(ours(bytes)).toEqual(reference(bytes));
      // Unknown fields of every wire type are skipped by both.
      const extended = Uint8Array.from([...bytes, ...unknownFields]);
      expect(ours(extended)).toEqual(reference(extended));
    }
  });

  it("keeps the last of a repeated scalar field and the payload without copying it", () => {
    const bytes = Uint8Array.from([0x0a, 1, 0x61, 0x0a, 1, 0x62, 0x1a, 2, 5, 6]);
    expect(ours(bytes)).toEqual(reference(bytes));
    const decoded = decodeRequest(bytes);
    expect(decoded.payload.buffer).toBe(bytes.buffer);
  });

  it("refuses malformed input, as protobuf-es does", () => {
    const malformed = [
      Uint8Array.from([0xff, 0xff, 0xff]), // a tag varint that never ends
      Uint8Array.from([0x0a, 0x05, 0x61]), // a string longer than the message
      Uint8Array.from([0x1a, 0x80]), // a truncated length
      Uint8Array.from([0x20, 0x80, 0x80]), // a truncated timeout varint
      Uint8Array.from([0x51, 1, 2, 3]), // fixed64 cut short
      Uint8Array.from([0x5b]), // wire type 3 (group start)
      Uint8Array.from([0x5e]), // wire type 6
      Uint8Array.from([0x00, 0x00]), // field number 0
      Uint8Array.from([0x2a, 0x02, 0x0a, 0x05]), // metadata whose key overruns it
      Uint8Array.from([0x0a, 0x02, 0xff, 0xfe]), // a service name that is not UTF-8
    ];
    for (const bytes of malformed) {
      expect(() => reference(bytes), `protobuf-es on ${Array.from(bytes)}`).toThrow();
      expect(() => decodeRequest(bytes), `ours on ${Array.from(bytes)}`).toThrow();
    }
    // A known field with the wrong wire type.
    expect(() => decodeRequest(Uint8Array.from([0x08, 0x01]))).toThrow(/field 1 has wire type 0, expected 2/);
  });
});
