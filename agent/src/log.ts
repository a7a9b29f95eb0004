// Structured logs: one JSON object per line, carrying the sandbox and container ids a line is
// about. The level can be changed while running (SIGUSR1 / SIGUSR2, see main.ts).

export const levels = ["trace", "debug", "info", "warn", "error", "critical"] as const;
export type Level = (typeof levels)[number];

/** logrus-style names the Kata runtime passes in agent.log, mapped onto ours. */
export function parseLevel(text: string): Level | undefined {
  const name = text.trim().toLowerCase();
  if (name === "warning") return "warn";
  if (name === "fatal" || name === "panic") return "critical";
  return (levels as readonly string[]).includes(name) ? (name as Level) : undefined;
}

export type Fields = Record<string, unknown>;
export type Sink = (line: string) => void;

interface Shared {
  threshold: number;
  configured: Level;
  sink: Sink;
}

export class Logger {
  private constructor(
    private readonly shared: Shared,
    private readonly fields: Fields,
  ) {}

  static create(level: Level, sink: Sink = (line) => process.stderr.write(line)): Logger {
    return new Logger({ threshold: levels.indexOf(level), configured: level, sink }, { name: "kata-agent" });
  }

  /** A logger whose lines also carry `fields` (e.g. { sandbox, container }). */
  child(fields: Fields): Logger {
    return new Logger(this.shared, { ...this.fields, ...fields });
  }

  get level(): Level {
    return levels[this.shared.threshold] ?? "info";
  }

  setLevel(level: Level): void {
    this.shared.threshold = levels.indexOf(level);
  }

  /** Back to the level the configuration asked for. */
  resetLevel(): void {
    this.setLevel(this.shared.configured);
  }

  setSink(sink: Sink): void {
    this.shared.sink = sink;
  }

  enabled(level: Level): boolean {
    return levels.indexOf(level) >= this.shared.threshold;
  }

  trace(msg: string, fields?: Fields): void {
    this.write("trace", msg, fields);
  }
  debug(msg: string, fields?: Fields): void {
    this.write("debug", msg, fields);
  }
  info(msg: string, fields?: Fields): void {
    this.write("info", msg, fields);
  }
  warn(msg: string, fields?: Fields): void {
    this.write("warn", msg, fields);
  }
  error(msg: string, fields?: Fields): void {
    this.write("error", msg, fields);
  }
  critical(msg: string, fields?: Fields): void {
    this.write("critical", msg, fields);
  }

  private write(level: Level, msg: string, fields?: Fields): void {
    if (levels.indexOf(level) < this.shared.threshold) return;
    const ts = new Date().toISOString();
    const own = { ts, level, msg, pid: process.pid };
    const extra = Object.assign({}, this.fields, fields);
    // Fields never overwrite the record's own ts, level, msg and pid (the agent's), which keep
    // their place first; a field of the same name (a container process's pid, say) is kept
    // under "shadowed" rather than lost.
    let shadowed: Fields | undefined;
    for (const key of OWN_KEYS) {
      if (!Object.hasOwn(extra, key)) continue;
      shadowed ??= {};
      shadowed[key] = extra[key];
      delete extra[key];
    }
    const record = Object.assign(own, extra, shadowed ? { shadowed } : {});
    this.shared.sink(`${JSON.stringify(record, replacer)}\n`);
  }
}

/** The keys every record has, written by the logger itself. */
const OWN_KEYS = ["ts", "level", "msg", "pid"] as const;

/** Errors become { name, message, code }; bigints become numbers or strings. */
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as NodeJS.ErrnoException).code;
    return { name: value.name, message: value.message, ...(code ? { code } : {}) };
  }
  if (typeof value === "bigint")
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  return value;
}
