// Every long step prints its name when it starts and its elapsed time when it ends, plus a
// heartbeat line while it runs, so users (and CI logs) always see what the build is doing.
import { performance } from "node:perf_hooks";

export interface ProgressOptions {
  quiet?: boolean;
  /** Where lines go; stderr by default so stdout stays for results. */
  write?: (line: string) => void;
  /** Seconds between "still running" lines for a long step. */
  heartbeatSeconds?: number;
}

export class Progress {
  private readonly write: (line: string) => void;
  private readonly heartbeat: number;
  private depth = 0;

  constructor(private readonly options: ProgressOptions = {}) {
    this.write = options.write ?? ((line) => process.stderr.write(`${line}\n`));
    this.heartbeat = (options.heartbeatSeconds ?? 20) * 1000;
  }

  /** Runs one named step, reporting its start, heartbeat and duration. */
  async step<T>(name: string, run: () => Promise<T>): Promise<T> {
    const indent = "  ".repeat(this.depth);
    const started = performance.now();
    this.emit(`${indent}==> ${name}`);
    const timer = setInterval(() => {
      this.emit(`${indent}    ... still ${name.toLowerCase()} (${seconds(started)})`);
    }, this.heartbeat);
    timer.unref();
    this.depth++;
    try {
      const result = await run();
      this.emit(`${indent}    done in ${seconds(started)}`);
      return result;
    } catch (err) {
      this.emit(`${indent}    failed after ${seconds(started)}`);
      throw err;
    } finally {
      this.depth--;
      clearInterval(timer);
    }
  }

  /** A line of detail under the current step. */
  info(message: string): void {
    this.emit(`${"  ".repeat(this.depth)}    ${message}`);
  }

  private emit(line: string): void {
    if (!this.options.quiet) this.write(line);
  }
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)}s`;
}
