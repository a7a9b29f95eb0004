// The frames that answer a call: an OK Response laid out by hand around the handler's encoded
// reply (so a 32 KiB ReadStdout reply is not copied into an envelope and again into a frame),
// or an error Response.
import { create, toBinary } from "@bufbuild/protobuf";
import { ResponseSchema } from "../../gen/ttrpc/ttrpc_pb.js";
import type { AgentError } from "../core/error.js";
import { varint } from "../core/varint.js";
import { FrameType, HEADER_LENGTH } from "./frame.js";
import { toStatus } from "./status.js";

/** Field 1 (status) = empty message (OK), then field 2 (payload): tag, length, bytes. */
const OK_STATUS_BYTES = [0x0a, 0x00];
export const RESPONSE_OVERHEAD = OK_STATUS_BYTES.length + 1 + 5;

export const byteLength = (parts: Uint8Array[]) => parts.reduce((n, p) => n + p.length, 0);

export function okFrame(streamId: number, payload: Uint8Array[]): Buffer[] {
  const length = byteLength(payload);
  // An empty payload is left out, as a protobuf encoder would.
  const envelope = length ? [...OK_STATUS_BYTES, 0x12, ...varint(length)] : OK_STATUS_BYTES;
  const head = Buffer.allocUnsafe(HEADER_LENGTH + envelope.length);
  head.writeUInt32BE(envelope.length + length, 0);
  head.writeUInt32BE(streamId, 4);
  head[8] = FrameType.Response;
  head[9] = 0;
  head.set(envelope, HEADER_LENGTH);
  return [head, ...payload.filter((p) => p.length).map((p) => Buffer.from(p.buffer, p.byteOffset, p.length))];
}

export function errorResponse(err: AgentError): Uint8Array {
  return toBinary(ResponseSchema, create(ResponseSchema, { status: toStatus(err) }));
}
