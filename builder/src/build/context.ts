// The one typed context every stage receives: where to write (staging), where to scratch
// (work), the shared cache, the fixed time, and the manifest the stages fill in.
import { mkdir } from "node:fs/promises";
import type { Staging } from "../util/atomic.js";
import { BuildError } from "../util/errors.js";
import type { Progress } from "../util/progress.js";

export interface BuildContext {
  progress: Progress;
  staging: Staging;
  /** Scratch space inside the staging directory (removed with it). */
  work: string;
  /** SOURCE_DATE_EPOCH, or the build's start time. */
  epoch: number;
  /** Manifest sections, keyed by stage. */
  manifest: Record<string, unknown>;
  /** Names (inside staging) to move into the output directory at the end. */
  artifacts: string[];
  signal?: AbortSignal;
}

/** SOURCE_DATE_EPOCH from the environment, validated; `now` when unset. */
export function sourceDateEpoch(env = process.env, now = Date.now()): number {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === "") return Math.floor(now / 1000);
  if (!/^\d+$/.test(raw)) throw new BuildError(`SOURCE_DATE_EPOCH must be a number of seconds, not '${raw}'`);
  return Number(raw);
}

export async function createContext(
  staging: Staging,
  progress: Progress,
  epoch: number,
): Promise<BuildContext> {
  const work = staging.path(".work");
  await mkdir(work, { recursive: true });
  return { progress, staging, work, epoch, manifest: {}, artifacts: [] };
}

/** Runs a named stage through the step logger and records its manifest entry. */
export async function stage<T>(ctx: BuildContext, name: string, run: () => Promise<T>): Promise<T> {
  return ctx.progress.step(name, run);
}
