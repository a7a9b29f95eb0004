// The shape of a ctl command. Adding one is a file exporting a CtlCommand and a line in
// commands.ts; the dispatcher, help, "did you mean" and the session modes pick it up.
import type { Session } from "./session.js";

export interface CtlCommand {
  name: string;
  /** One line for `kata-agent-ctl --help`. */
  summary: string;
  /** The whole `<command> --help` text. */
  help: string;
  /**
   * Runs with the command's own words (its name excluded); returns the exit code. Commands that
   * talk to the agent use the session's connection, so they work in -c lines, scripts and the
   * interactive mode alike.
   */
  run(args: string[], session: Session): Promise<number>;
  /** Only valid as the whole command line (it takes over the terminal, or serves forever). */
  standalone?: boolean;
}
