// The guest's serial console, written by QEMU to a file: watched for the kernel's banner (to
// time the boot) and for panics (to fail fast), and shown in part when something goes wrong.
import { existsSync, readFileSync } from "node:fs";

/** The agent's start, from its "agent ready" and "first call answered" lines and the init script. */
export interface AgentStartup {
  /** Process start -> serving, on node's clock (which starts after node is loaded). */
  startupMs: number;
  /** Started from the start-up snapshot (else from the bundle). */
  snapshot: boolean;
  /** node (its own bootstrap), load, init, config, managers, listen; each in ms. */
  phasesMs: Record<string, number>;
  /** The load phase by chunk ("read and compile", then each chunk's evaluation). */
  loadMs?: Record<string, number>;
  /** Process start -> the first answered call, on node's clock. */
  firstCallMs?: number;
  /** The agent's anonymous memory (kB) when it answered its first call. */
  rssAnonKb?: number;
}

/** The lines of the bench's node baseline init: "<marker> run N: <ms> ms", then "<marker> done". */
export const NODE_BASELINE_MARKER = "kata-boot-check: node -e 0";

export class ConsoleWatch {
  private timer: NodeJS.Timeout;
  kernelAt: number | undefined;
  panic: string | undefined;
  /** The agent's own start-up time, from its "agent ready" log line (node's clock). */
  agentStartupMs: number | undefined;
  /** The agent's start in detail, once its "agent ready" line was seen. */
  agentStartup: AgentStartup | undefined;

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
        if (this.agentStartup === undefined && line.includes('"msg":"agent ready"')) {
          this.agentStartup = readyRecord(line);
          this.agentStartupMs = this.agentStartup?.startupMs;
        }
        if (this.agentStartup && line.includes('"msg":"first call answered"')) {
          const record = jsonOf(line);
          if (typeof record?.sinceStartMs === "number") this.agentStartup.firstCallMs ??= record.sinceStartMs;
          if (typeof record?.rssAnonKb === "number") this.agentStartup.rssAnonKb ??= record.rssAnonKb;
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

function jsonOf(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line.slice(line.indexOf("{")));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const numbers = (value: unknown): Record<string, number> | undefined =>
  typeof value === "object" && value !== null
    ? Object.fromEntries(Object.entries(value).filter((e): e is [string, number] => typeof e[1] === "number"))
    : undefined;

function readyRecord(line: string): AgentStartup | undefined {
  const record = jsonOf(line);
  if (!record || typeof record.startupMs !== "number") return undefined;
  const startup: AgentStartup = {
    startupMs: record.startupMs,
    snapshot: record.snapshot === true,
    phasesMs: numbers(record.phasesMs) ?? {},
  };
  const load = numbers(record.loadMs);
  if (load) startup.loadMs = load;
  return startup;
}
