// The exit codes every bin uses, and the error a mistaken command line raises. A usage error
// (unknown command or flag, a missing or malformed value) exits 2 and says where help is; a
// failure of the work itself exits 1 and says what to do about it.
import { type Styles, styles } from "./colour.js";
import { didYouMean } from "./suggest.js";

export const EXIT_OK = 0;
/** The work failed: the message says what went wrong and what to do. */
export const EXIT_FAILURE = 1;
/** The command line was wrong: nothing was done. */
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** "unknown command 'rootf' (did you mean 'rootfs'?)". */
export function unknownCommand(word: string, commands: Iterable<string>, what = "command"): UsageError {
  return new UsageError(`unknown ${what} '${word}'${didYouMean(word, commands)}`);
}

/** "unknown option '--veirty' (did you mean '--verity'?)"; `flags` are given with their dashes. */
export function unknownFlag(flag: string, flags: Iterable<string>): UsageError {
  return new UsageError(`unknown option '${flag}'${didYouMean(flag, flags)}`);
}

/**
 * The lines a bin prints for an error: `program: message`, then what to do indented under it;
 * the program's name in red when `style` is a terminal's.
 */
export function formatError(
  program: string,
  message: string,
  hint?: string,
  style: Styles = styles(false),
): string {
  const lines = [`${style.red(style.bold(`${program}:`))} ${message}`];
  if (hint) lines.push(...hint.split("\n").map((line) => `  ${line}`));
  return `${lines.join("\n")}\n`;
}
