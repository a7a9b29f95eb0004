// Every long step reports its name when it starts and its elapsed time when it ends, plus a
// heartbeat while it runs, so users (and CI logs) always see what the build is doing. The
// command line prints them as lines on stderr (stdout stays for results); a program using the
// library gets them as events.
import { performance } from "node:perf_hooks";
import { type Styles, styles } from "../../../agent/src/cli/index.js";

/** What a build reports while it runs. `depth` is how deep the step is nested (0: top). */
export type ProgressEvent =
  | { type: "step"; name: string; depth: number }
  | { type: "done"; name: string; depth: number; seconds: number }
  | { type: "failed"; name: string; depth: number; seconds: number }
  | { type: "heartbeat"; name: string; depth: number; seconds: number }
  | { type: "info"; message: string; depth: number };

export interface ProgressOptions {
  quiet?: boolean;
  /** Where lines go; stderr by default (stdout stays for results), none when only onEvent is given. */
  write?: (line: string) => void;
  /** Receives every event. */
  onEvent?: (event: ProgressEvent) => void;
  /** Seconds between "still running" events for a long step. */
  heartbeatSeconds?: number;
  /** Colours for the lines (none unless given: the CLI gives them on a terminal). */
  style?: Styles;
}

/** An event as the line the command line prints for it. */
export function progressLine(event: ProgressEvent, style: Styles = styles(false)): string {
  const indent = "  ".repeat(event.depth);
  switch (event.type) {
    case "step":
      return `${indent}${style.bold(style.cyan("==>"))} ${style.bold(event.name)}`;
    case "done":
      return `${indent}    ${style.dim(`done in ${event.seconds.toFixed(1)}s`)}`;
    case "failed":
      return `${indent}    ${style.red(`failed after ${event.seconds.toFixed(1)}s`)}`;
    case "heartbeat":
      return `${indent}    ... still ${event.name.toLowerCase()} (${event.seconds.toFixed(1)}s)`;
    case "info":
      return `${indent}    ${event.message}`;
  }
}

export class Progress {
  private readonly write: ((line: string) => void) | undefined;
  private readonly heartbeat: number;
  private depth = 0;

  constructor(private readonly options: ProgressOptions = {}) {
    this.write =
      options.write ?? (options.onEvent ? undefined : (line: string) => process.stderr.write(`${line}\n`));
    this.heartbeat = (options.heartbeatSeconds ?? 20) * 1000;
  }

  /** Runs one named step, reporting its start, heartbeat and duration. */
  async step<T>(name: string, run: () => Promise<T>): Promise<T> {
    const depth = this.depth;
    const started = performance.now();
    this.emit({ type: "step", name, depth });
    const timer = setInterval(() => {
      this.emit({ type: "heartbeat", name, depth, seconds: seconds(started) });
    }, this.heartbeat);
    timer.unref();
    this.depth++;
    try {
      const result = await run();
      this.emit({ type: "done", name, depth, seconds: seconds(started) });
      return result;
    } catch (err) {
      this.emit({ type: "failed", name, depth, seconds: seconds(started) });
      throw err;
    } finally {
      this.depth--;
      clearInterval(timer);
    }
  }

  /** A line of detail under the current step. */
  info(message: string): void {
    this.emit({ type: "info", message, depth: this.depth });
  }

  private emit(event: ProgressEvent): void {
    if (this.options.quiet) return;
    this.options.onEvent?.(event);
    this.write?.(progressLine(event, this.options.style));
  }
}

function seconds(since: number): number {
  return Math.round((performance.now() - since) / 100) / 10;
}
