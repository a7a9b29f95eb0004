// Entry point of the kata-build bundle: runs the command and exits with its status. Every
// failure ends in a message and a non-zero status (cli.ts), including a command that stops
// waiting on something that will never happen.
import { run } from "./cli.js";

void run(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
