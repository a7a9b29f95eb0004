// The shape every kata-build command has; cli.ts dispatches on `name`.
import type { OptionTable, Parsed } from "../util/options.js";
import type { Progress } from "../util/progress.js";

export interface Command<T extends OptionTable = OptionTable> {
  name: string;
  /** One line for `kata-build --help`. */
  summary: string;
  usage: string;
  /** Longer description for `kata-build <name> --help`. */
  description: string;
  options: T;
  run(values: Parsed<T>, positionals: string[], progress: Progress): Promise<void>;
}

/** Keeps a command's option types while storing it in a registry. */
export function defineCommand<T extends OptionTable>(command: Command<T>): Command<T> {
  return command;
}
