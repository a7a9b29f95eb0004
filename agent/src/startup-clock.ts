// The agent's start-up, phase by phase, on node's own clock: performance.now() counts from the
// moment node started the process, so the first phase is node's own bootstrap before any of our
// code runs. The "agent ready" line carries the phases up to listening; the "first call
// answered" line adds the first accepted connection and the first answered call.

/** Where each bundle chunk records when it starts evaluating (its banner pushes onto this). */
export const CHUNK_MARKS = Symbol.for("kata-agent.chunk-marks");

interface ChunkMark {
  /** The chunk's file URL. */
  chunk: string;
  /** performance.now() when its evaluation began. */
  at: number;
}

type Global = typeof globalThis & { [CHUNK_MARKS]?: ChunkMark[] };

const marks: [string, number][] = [];
let snapshot = false;

/** Called first thing by the entry point: from here on chunk evaluations are recorded. */
export function startClock(options: { snapshot: boolean }): void {
  snapshot = options.snapshot;
  (globalThis as Global)[CHUNK_MARKS] ??= [];
  marks.length = 0;
  marks.push(["node", performance.now()]);
}

/** Ends the phase `name` now (phases are the spans between consecutive marks). */
export function mark(name: string): void {
  marks.push([name, performance.now()]);
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** { node, <phase>: ms, ... } from the marks so far; `node` is everything before our code. */
export function phasesMs(): Record<string, number> {
  const phases: Record<string, number> = {};
  let previous = 0;
  for (const [name, at] of marks) {
    phases[name] = round((phases[name] ?? 0) + at - previous);
    previous = at;
  }
  return phases;
}

/**
 * The "load" phase in detail: reading and compiling the chunks (before the first of them runs),
 * then each chunk's evaluation, by file name in the order they ran; a chunk's span ends where
 * the next one begins, the last one's where loading ended. Chunks the entry imports statically
 * run before the clock starts and are part of node's phase.
 */
export function loadMs(): Record<string, number> {
  const from = marks.find(([name]) => name === "node")?.[1];
  const end = marks.find(([name]) => name === "load")?.[1];
  if (from === undefined || end === undefined) return {};
  const recorded = ((globalThis as Global)[CHUNK_MARKS] ?? []).filter((c) => c.at >= from && c.at <= end);
  const out: Record<string, number> = { "read and compile": round((recorded[0]?.at ?? end) - from) };
  recorded.forEach(({ chunk, at }, i) => {
    const next = recorded[i + 1]?.at ?? end;
    const name = chunk.slice(chunk.lastIndexOf("/") + 1);
    out[name] = round((out[name] ?? 0) + next - at);
  });
  return out;
}

/** Chunks that began evaluating after `since` (those a first call loaded on demand). */
export function chunksSince(since: number): string[] {
  return ((globalThis as Global)[CHUNK_MARKS] ?? [])
    .filter((c) => c.at >= since)
    .map((c) => c.chunk.slice(c.chunk.lastIndexOf("/") + 1));
}

/** The record for the "agent ready" line. */
export function readyRecord(): Record<string, unknown> {
  const now = performance.now();
  return {
    startupMs: Math.round(now),
    // The process start on the monotonic clock (which in a guest counts from boot, like
    // /proc/uptime): lets the boot check place node's start against the kernel's and init's.
    processStartMonotonicMs: round(Number(process.hrtime.bigint()) / 1e6 - now),
    snapshot,
    phasesMs: phasesMs(),
    ...(snapshot ? {} : { loadMs: loadMs() }),
  };
}
