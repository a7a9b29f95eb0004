// The registry of kata-build commands: adding a command is one file and one line here.
import type { Command } from "./command.js";

export const commands: Command[] = [];
