// Values that would be random in an image (filesystem and verity UUIDs, the verity salt, the
// disk signature) derived from one seed instead, so a rebuild of the same tree gives the same
// bytes. The seed is the tree's listing digest plus SOURCE_DATE_EPOCH unless given.
import { createHash } from "node:crypto";

/** A version-4-shaped UUID derived from the seed and what it is for. */
export function seededUuid(seed: string, purpose: string): string {
  const h = createHash("sha256").update(`${purpose}\0${seed}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x40;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

export function seededSalt(seed: string): string {
  return createHash("sha256").update(`verity-salt\0${seed}`).digest("hex");
}

export function diskSignature(seed: string): number {
  return createHash("sha256").update(`mbr-signature\0${seed}`).digest().readUInt32LE(0);
}
