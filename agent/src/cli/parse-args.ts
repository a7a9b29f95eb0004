// node:util's parseArgs, explained: its "Unknown option" error becomes a usage error that
// suggests the nearest known flag; its other errors keep their message.
import { UsageError, unknownFlag } from "./errors.js";

/** The usage error for something parseArgs threw, given the flags it knew (with dashes). */
export function parseArgsError(err: unknown, flags: Iterable<string>): UsageError {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const flag = /'([^']+)'/.exec(message)?.[1];
    if (flag !== undefined) return unknownFlag(flag, flags);
  }
  // parseArgs appends advice meant for programmers ("To specify a positional argument ...").
  return new UsageError(message.split(/\.\s+(?=To specify|Did you forget)/)[0]!.replace(/\.$/, ""));
}

/** The flags of a parseArgs options table, as typed: --long and -s. */
export function flagsOf(options: Record<string, { type: string; short?: string }>): string[] {
  return Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]);
}
