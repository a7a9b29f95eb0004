// Entry point of the kata-build bundle.
import { main } from "./cli.js";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`kata-build: unexpected error: ${text}\n`);
    process.exitCode = 70;
  },
);
