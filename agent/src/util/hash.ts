// sha256, with node:crypto loaded on first use: initialising it (OpenSSL) is a measurable part
// of start-up, and only policies and CopyFile need a hash.
import { createRequire } from "node:module";

const load = createRequire(import.meta.url);

export function sha256Hex(data: string | Uint8Array): string {
  const { createHash } = load("node:crypto") as typeof import("node:crypto");
  return createHash("sha256").update(data).digest("hex");
}
