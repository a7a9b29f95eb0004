// Types of builder.mjs for the TypeScript bench (main.ts imports it).
import type { Section } from "./report.js";

export interface BuildTimes {
  /** rootfs + image + initrd, seconds. */
  seconds: number;
  rootfsSeconds: number;
  imageSeconds: number;
  initrdSeconds: number;
}

export interface BuilderFigures {
  init: "systemd" | "agent";
  /** Bytes of the rootfs tree's files and links. */
  rootfsBytes: number;
  imageBytes: number;
  /** The default initrd (zstd -9). */
  initrdBytes: number;
  initrdCompression: string;
  /** The same tree as a gzip -6 initrd (not measured with quick). */
  initrdGzipBytes?: number;
  /** Median of the warm runs. */
  warmBuildSeconds: number;
  warm: BuildTimes[];
  /** Empty cache (not measured with quick). */
  coldBuildSeconds?: number;
  cold?: BuildTimes;
  machine: { cpus: number; loadBefore: number[]; loadAfter: number[] };
}

export interface BenchBuilderOptions {
  init?: "systemd" | "agent";
  quick?: boolean;
  cold?: boolean;
  warmRuns?: number;
  cache?: string;
  keep?: boolean;
}

export function benchBuilder(options?: BenchBuilderOptions): Promise<BuilderFigures>;
export function benchBuilderSection(options?: {
  quick?: boolean;
  init?: "systemd" | "agent";
}): Promise<Section>;
