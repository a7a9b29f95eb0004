// manifest.json of a kernel: what went in (source and its hash, fragments and theirs, every
// requested option, accepted drops), what came out (sha256 and size of each file), and how long
// the cold build took, so a cached kernel still reports the time it cost to build.
import { readFile } from "node:fs/promises";
import type { ArtifactRecord } from "../util/manifest.js";
import type { FragmentFile } from "./fragments.js";
import type { Drop } from "./kconfig/explain.js";
import type { MergedConfig } from "./kconfig/merge.js";
import type { Arch, Hypervisor } from "./request.js";
import type { KernelSource } from "./types.js";
import type { WhitelistEntry } from "./whitelist.js";

export interface KernelManifest {
  kind: "kata-guest-kernel" | "kata-guest-kernel-config";
  /** Version from the tree's Makefile, e.g. 6.1.192. */
  version: string;
  /** `uname -r` of the built kernel, e.g. 6.1.192-kata (full builds only). */
  release?: string;
  arch: Arch;
  hypervisor: Hypervisor;
  features: string[];
  source: {
    kind: KernelSource["kind"];
    path: string;
    /** Tarball sha256, or the tree fingerprint for an unpacked tree. */
    sha256: string;
    version?: string;
    url?: string;
  };
  fragments: { name: string; sha256: string }[];
  fragmentsSha256: string;
  mergedConfigSha256: string;
  cacheKey: string;
  recipe: string;
  /** Every requested option and its value, e.g. { VIRTIO_BLK: "y" }. */
  requested: Record<string, string>;
  acceptedDrops: { option: string; requested: string; why: string; whitelisted: string }[];
  finalConfigSha256: string;
  artifacts: ArtifactRecord[];
  /** PVH entry point of vmlinux (x86_64), from its XEN_ELFNOTE_PHYS32_ENTRY note. */
  pvhEntry?: string;
  /**
   * The cold build: wall seconds of `make vmlinux bzImage`, its CPU seconds (all jobs, user +
   * system; divide by the CPUs to estimate wall time on an idle machine), jobs and CPUs, and
   * the 1-minute load average when it finished (how busy the machine was).
   */
  build?: {
    seconds: number;
    cpuSeconds?: number;
    jobs: number;
    cpus: number;
    loadAverage: number;
    finishedAt: string;
  };
}

export interface ManifestParts {
  kind: KernelManifest["kind"];
  version: string;
  release?: string;
  arch: Arch;
  hypervisor: Hypervisor;
  features: readonly string[];
  source: KernelSource;
  fragments: readonly FragmentFile[];
  fragmentsSha256: string;
  merged: MergedConfig;
  mergedConfigSha256: string;
  cacheKey: string;
  recipe: string;
  accepted: readonly { drop: Drop; entry: WhitelistEntry }[];
  finalConfigSha256: string;
  artifacts: ArtifactRecord[];
  pvhEntry?: string;
  build?: KernelManifest["build"];
}

export function kernelManifest(parts: ManifestParts): KernelManifest {
  const source = parts.source;
  return {
    kind: parts.kind,
    version: parts.version,
    ...(parts.release ? { release: parts.release } : {}),
    arch: parts.arch,
    hypervisor: parts.hypervisor,
    features: [...parts.features],
    source: {
      kind: source.kind,
      path: source.path,
      sha256: source.sha256,
      ...(source.kind === "tarball" && source.pinned
        ? { version: source.pinned.version, url: source.pinned.url }
        : {}),
    },
    fragments: parts.fragments.map((f) => ({ name: f.name, sha256: f.sha256 })),
    fragmentsSha256: parts.fragmentsSha256,
    mergedConfigSha256: parts.mergedConfigSha256,
    cacheKey: parts.cacheKey,
    recipe: parts.recipe,
    requested: Object.fromEntries([...parts.merged.requests.values()].map((r) => [r.symbol, r.value])),
    acceptedDrops: parts.accepted.map(({ drop, entry }) => ({
      option: drop.symbol,
      requested: drop.requested,
      why: drop.reason,
      whitelisted: entry.reason,
    })),
    finalConfigSha256: parts.finalConfigSha256,
    artifacts: parts.artifacts,
    ...(parts.pvhEntry ? { pvhEntry: parts.pvhEntry } : {}),
    ...(parts.build ? { build: parts.build } : {}),
  };
}

/** Reads a manifest back; undefined when missing or not a kernel manifest. */
export async function readKernelManifest(path: string): Promise<KernelManifest | undefined> {
  try {
    const value = JSON.parse(await readFile(path, "utf8")) as Partial<KernelManifest>;
    return value.kind === "kata-guest-kernel" || value.kind === "kata-guest-kernel-config"
      ? (value as KernelManifest)
      : undefined;
  } catch {
    return undefined;
  }
}
