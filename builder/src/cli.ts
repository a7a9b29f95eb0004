// kata-build: builds Kata guest root filesystems, images, initrds and kernels, and boots them.

import { commands } from "./commands/index.js";
import { BuildError } from "./util/errors.js";
import { formatHelp, parseOptions } from "./util/options.js";
import { Progress } from "./util/progress.js";

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 8) + 2;
  return [
    "Usage: kata-build <command> [options]",
    "",
    "Builds Kata Containers guests: an Azure Linux (or Debian) root filesystem holding the",
    "Node.js agent, a disk image with optional dm-verity, an initrd, and a guest kernel.",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Run 'kata-build <command> --help' for a command's options.",
    "",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(mainHelp());
    return name ? 0 : 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`kata-build: unknown command '${name}'\n\n${mainHelp()}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(formatHelp(command.usage, command.description, command.options));
    return 0;
  }
  try {
    const { values, positionals } = parseOptions(command.name, command.options, rest);
    const quiet = (values as Record<string, unknown>).quiet === true;
    await command.run(values, positionals, new Progress({ quiet }));
    return 0;
  } catch (err) {
    if (err instanceof BuildError) {
      process.stderr.write(`kata-build ${command.name}: error: ${err.message}\n`);
      if (err.hint) process.stderr.write(`  ${err.hint}\n`);
      return 1;
    }
    throw err;
  }
}

/** Status for a failure that is a bug of ours (sysexits' EX_SOFTWARE). */
const INTERNAL = 70;

/**
 * main(), with its end guaranteed: a failure nobody turned into a BuildError is reported as an
 * internal error (the stack only with KATA_BUILD_DEBUG=1), and if the event loop runs dry while
 * the command still waits (a stream that never ends, say), that is reported too, instead of
 * Node exiting 0 as if all had gone well. Staging directories are removed at exit either way
 * (workspace/atomic.ts).
 */
export async function run(
  argv: string[],
  command: (argv: string[]) => Promise<number> = main,
): Promise<number> {
  let finished = false;
  const stalled = () => {
    if (finished) return;
    process.stderr.write(
      "kata-build: internal error: the command stopped waiting for work that will never finish; nothing was written\n",
    );
    process.exitCode = INTERNAL;
  };
  process.once("beforeExit", stalled);
  try {
    return await command(argv);
  } catch (err) {
    const debug = process.env.KATA_BUILD_DEBUG === "1";
    const text = err instanceof Error ? (debug ? (err.stack ?? err.message) : err.message) : String(err);
    process.stderr.write(`kata-build: internal error: ${text}\n`);
    if (!debug) process.stderr.write("  run with KATA_BUILD_DEBUG=1 for the stack, and please report it\n");
    return INTERNAL;
  } finally {
    finished = true;
    process.off("beforeExit", stalled);
  }
}
