// Pinned kernel versions: `--source 6.6.60` downloads the tarball named in versions.conf and
// refuses it unless its sha256 matches the pinned one. Lines are
//   VERSION  SHA256  [URL]
// and without a URL the kernel.org layout is used: <mirror>/linux/kernel/v<major>.x/linux-<version>.tar.xz
import { readFile } from "node:fs/promises";
import { BuildError } from "../util/errors.js";

export const KERNEL_ORG = "https://cdn.kernel.org/pub";

export interface PinnedVersion {
  version: string;
  sha256: string;
  /** Explicit URL, or undefined for the kernel.org layout. */
  url?: string;
  line: number;
}

export function parseVersions(text: string, file: string): Map<string, PinnedVersion> {
  const pins = new Map<string, PinnedVersion>();
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) return;
    const m = /^(\S+)\s+([0-9a-f]{64})(?:\s+(\S+))?$/.exec(line);
    if (!m) {
      throw new BuildError(`${file}:${i + 1}: expected 'VERSION SHA256 [URL]', got '${line}'`);
    }
    if (pins.has(m[1]!)) throw new BuildError(`${file}:${i + 1}: version ${m[1]} is pinned twice`);
    pins.set(m[1]!, { version: m[1]!, sha256: m[2]!, ...(m[3] ? { url: m[3] } : {}), line: i + 1 });
  });
  return pins;
}

export async function loadVersions(path: string): Promise<Map<string, PinnedVersion>> {
  return parseVersions(await readFile(path, "utf8"), path);
}

/** True for strings that look like a kernel version rather than a path. */
export function looksLikeVersion(source: string): boolean {
  return /^\d+\.\d+(\.\d+)?(-rc\d+)?([+~-][A-Za-z0-9.]+)?$/.test(source);
}

export function downloadUrl(pin: PinnedVersion, mirror = KERNEL_ORG): string {
  if (pin.url) return pin.url;
  const major = pin.version.split(".")[0];
  return `${mirror.replace(/\/+$/, "")}/linux/kernel/v${major}.x/linux-${pin.version}.tar.xz`;
}
