// The shape every kata-build command has; cli.ts dispatches on `name`. A command is a thin
// layer over one library function: its option table is the function's (plus the few options
// only the command line has), and it turns the function's result into text for people (with
// --json the result itself is printed).
import type { BuildHooks } from "../api/hooks.js";
import type { Given, OptionSpec, OptionTable } from "../util/options.js";

export interface CommandContext {
  /** Progress for the library function: lines on stderr (none with --quiet). */
  hooks: BuildHooks;
  /** --json: stdout is for the one JSON document the CLI prints from the result. */
  json: boolean;
  /** Text for stdout as the command runs (a container's output); nothing with --json. */
  print(text: string): void;
  /** An event of a long-running command: one JSON line with --json, else the text line. */
  event(event: Record<string, unknown>, text: string): void;
}

export interface Command<T extends OptionTable = OptionTable, R = unknown> {
  name: string;
  /** One line for `kata-build --help`. */
  summary: string;
  usage: string;
  /** Longer description for `kata-build <name> --help`. */
  description: string;
  /** The library function's options; the CLI adds its own (--json, --quiet, --config, ...). */
  options: T;
  /** Whether kata-build.toml can hold settings for it (its [name] table). */
  configurable?: boolean;
  /** What the command takes besides flags (e.g. "list|clean"); none when unset. */
  positionals?: string;
  /** It reports as it runs (events, one JSON line each with --json) instead of one final result. */
  streams?: boolean;
  run(values: Given<T>, positionals: string[], context: CommandContext): Promise<R>;
  /** The result as text for a person (stdout); undefined: nothing to print. */
  text?(result: R): string | undefined;
}

/** Keeps a command's option and result types while storing it in a registry. */
export function defineCommand<T extends OptionTable, R>(command: Command<T, R>): Command<T, R> {
  return command;
}

/** Options every command takes on the command line, beside its own. */
export const cliOptions = {
  json: { kind: "boolean", cliOnly: true, help: "print the result as one JSON document on stdout" },
  quiet: { kind: "boolean", short: "q", cliOnly: true, help: "print no progress" },
  config: {
    kind: "string",
    arg: "FILE",
    path: true,
    cliOnly: true,
    help: "take settings from this kata-build.toml (flags win over it)",
  },
  configProfile: {
    kind: "string",
    arg: "NAME",
    cliOnly: true,
    help: "also apply the [profiles.NAME.*] tables of the configuration file",
  },
} as const satisfies Record<string, OptionSpec>;
