// Gives memory back during and after bursts of large requests. A Buffer's bytes live outside
// V8's heap (malloc) and are freed only when V8 collects the Buffer, which it does when its own
// heap fills or external memory has grown by tens of MiB; a socket read is a Buffer of up to
// 64 KiB with a small object in front, so megabytes of dead reads collect before either
// happens, and after a flood the idle agent never collects at all. Even when freed, glibc keeps
// most of it: the reads lie in its heap below live allocations, and it returns only the heap's
// top by itself. So:
//  - every 4 MiB received, a young-generation collection frees the reads already copied out
//    (a millisecond or so);
//  - once a burst of large requests has been released, one full collection runs a little
//    later, then the free heap pages go back to the kernel (malloc_trim).
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { native } from "../native/index.js";

/** Bytes received between young-generation collections. */
const RECEIVED_BYTES = 4 << 20;
/** Released bytes that make a full collection worth its few milliseconds. */
const BURST_BYTES = 1 << 20;
/** How long after the last release the collection runs (a burst usually ends with many). */
const SETTLE_MS = 200;
/**
 * V8 frees collected buffers on a background thread, sooner or later depending on the load: the
 * heap is trimmed every so often after the collection, for as long as V8's count of buffer bytes
 * keeps falling, and once after it has settled.
 */
const TRIM_POLL_MS = 250;
const TRIM_POLLS_MAX = 40;

type Collect = (options?: { type: "minor" | "major" }) => void;

/** What a reclaim did, for a debug log line. */
export interface ReclaimReport {
  /** Bytes of ArrayBuffers V8 counted before the collection, and when freeing had settled. */
  bufferBytesBefore: number;
  bufferBytesAfter: number;
  ms: number;
}

let report: ((r: ReclaimReport) => void) | undefined;

/** Where reports of reclaims go (the server's debug log). */
export function onReclaim(listener: (r: ReclaimReport) => void): void {
  report = listener;
}

let received = 0;
let released = 0;
let timer: NodeJS.Timeout | undefined;
let collect: Collect | undefined;

/** The collector `--expose-gc` would give, without the agent having to start with that flag. */
function collector(): Collect {
  if (!collect) {
    setFlagsFromString("--expose-gc");
    collect = runInNewContext("gc") as Collect;
  }
  return collect;
}

/** Notes `bytes` read from a connection. */
export function noteReceived(bytes: number): void {
  received += bytes;
  if (received < RECEIVED_BYTES) return;
  received = 0;
  collector()({ type: "minor" });
}

/** Notes that `bytes` of large buffers are no longer referenced. */
export function noteReleased(bytes: number): void {
  released += bytes;
  if (released < BURST_BYTES) return;
  if (timer) {
    timer.refresh();
    return;
  }
  timer = setTimeout(() => {
    timer = undefined;
    released = 0;
    const started = performance.now();
    const before = process.memoryUsage().arrayBuffers;
    // Without arguments: a full, precise collection. ({ type: "major" } leaves buffers that are
    // already garbage alive, on Node 18 and 20 alike.)
    collector()();
    trimWhileFreeing(process.memoryUsage().arrayBuffers, TRIM_POLLS_MAX, (after) =>
      report?.({
        bufferBytesBefore: before,
        bufferBytesAfter: after,
        ms: Math.round(performance.now() - started),
      }),
    );
  }, SETTLE_MS);
  timer.unref();
}

/** Trims after each poll in which V8 freed buffer bytes, until it stops freeing them. */
function trimWhileFreeing(last: number, polls: number, done: (bytes: number) => void): void {
  setTimeout(() => {
    const now = process.memoryUsage().arrayBuffers;
    trimHeap();
    if (now < last && polls > 1) trimWhileFreeing(now, polls - 1, done);
    else done(now);
  }, TRIM_POLL_MS).unref();
}

function trimHeap(): void {
  try {
    native().trimHeap();
  } catch {
    // Without the addon (a development checkout not yet built), memory comes back later.
  }
}

/** How long after start-up the agent settles its memory, once. */
const SETTLE_AFTER_START_MS = 1500;

/**
 * Once, soon after start-up: a full collection of what starting left behind (parsed code and
 * configuration, the bootstrap's temporaries), and the freed heap back to the kernel.
 */
export function settleAfterStart(): void {
  setTimeout(() => {
    collector()();
    trimHeap();
  }, SETTLE_AFTER_START_MS).unref();
}
