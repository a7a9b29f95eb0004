// The guest's serial console, written by QEMU to a file: watched for the kernel's banner (to
// time the boot) and for panics (to fail fast), and shown in part when something goes wrong.
import { existsSync, readFileSync } from "node:fs";

export class ConsoleWatch {
  private timer: NodeJS.Timeout;
  kernelAt: number | undefined;
  panic: string | undefined;
  /** The agent's own start-up time, from its "agent ready" log line (node's clock). */
  agentStartupMs: number | undefined;

  constructor(
    private readonly file: string,
    private readonly onLine?: (line: string) => void,
  ) {
    let offset = 0;
    let partial = "";
    this.timer = setInterval(() => {
      if (!existsSync(this.file)) return;
      const text = readFileSync(this.file, "latin1");
      if (text.length <= offset) return;
      const fresh = partial + text.slice(offset);
      offset = text.length;
      const lines = fresh.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (this.kernelAt === undefined && line.includes("Linux version")) this.kernelAt = performance.now();
        if (this.panic === undefined && /Kernel panic/.test(line)) this.panic = line.trim();
        if (this.agentStartupMs === undefined && line.includes('"msg":"agent ready"')) {
          this.agentStartupMs = startupMs(line);
        }
        this.onLine?.(line);
      }
    }, 20);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The last lines, for error messages. */
  tail(lines = 40): string {
    if (!existsSync(this.file)) return "(no console output)";
    return readFileSync(this.file, "latin1").trimEnd().split("\n").slice(-lines).join("\n");
  }
}

function startupMs(line: string): number | undefined {
  try {
    const value = (JSON.parse(line.slice(line.indexOf("{"))) as { startupMs?: unknown }).startupMs;
    return typeof value === "number" ? value : undefined;
  } catch {
    return undefined;
  }
}
