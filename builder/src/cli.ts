// kata-build: builds Kata guest root filesystems, images, initrds and kernels, and boots them.
// Each command is a thin layer over a library function: the flags (over kata-build.toml's
// settings) become the function's options, its progress goes to stderr, its result to stdout
// as text or, with --json, as one JSON document. Usage errors exit 2, failures 1.
import {
  EXIT_FAILURE,
  EXIT_USAGE,
  formatError,
  type Styles,
  stylesFor,
  UsageError,
  unknownCommand,
  unknownFlag,
} from "../../agent/src/cli/index.js";
import { loadBuildConfig } from "./api/config-file.js";
import type { BuildHooks } from "./api/hooks.js";
import { type Command, cliOptions } from "./commands/command.js";
import { commands } from "./commands/index.js";
import { BuildError } from "./util/errors.js";
import { TOOL_VERSION } from "./util/manifest.js";
import { formatHelp, type OptionTable, parseFlags } from "./util/options.js";
import { progressLine } from "./util/progress.js";

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  errStyle: Styles;
}

const processIo = (): CliIo => ({
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  errStyle: stylesFor(process.stderr),
});

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 8) + 2;
  return [
    "Usage: kata-build [--config FILE [--config-profile NAME]] <command> [options]",
    "       kata-build --version",
    "",
    "Builds Kata Containers guests: an Azure Linux (or Debian) root filesystem holding the",
    "Node.js agent, a disk image with optional dm-verity, an initrd, and a guest kernel; boots",
    "them; writes the Kata runtime's configuration for them.",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Every command takes --json (the result as one JSON document on stdout; vm, which runs until",
    "stopped, prints one JSON line per event), -q/--quiet (no progress on stderr), -h/--help, and",
    "the building ones --config FILE (settings from a kata-build.toml: one table per command,",
    "[profiles.NAME.COMMAND] tables for --config-profile NAME; flags win).",
    "Run 'kata-build <command> --help' for a command's options.",
    "",
  ].join("\n");
}

/** --config/--config-profile/--json/-q given before the command apply to it. */
const LEADING = new Set(["--config", "--config-profile", "--json", "--quiet", "-q"]);

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const leading: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    const flag = arg.split("=")[0]!;
    if (arg === "--version" || arg === "-V") {
      io.out(`kata-build ${TOOL_VERSION} (node ${process.version})\n`);
      return 0;
    }
    if (arg === "--help" || arg === "-h") {
      io.out(mainHelp());
      return 0;
    }
    if (!LEADING.has(flag)) break;
    leading.push(arg);
    if (!arg.includes("=") && (flag === "--config" || flag === "--config-profile"))
      leading.push(argv[++i] ?? "");
  }
  const [name, ...rest] = argv.slice(i);
  if (name === undefined) {
    io.err(mainHelp());
    return EXIT_USAGE;
  }
  if (name === "help") {
    const topic = rest[0] === undefined ? undefined : commands.find((c) => c.name === rest[0]);
    io.out(topic ? commandHelp(topic) : mainHelp());
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    const err = name.startsWith("-")
      ? unknownFlag(name, ["--version", "--help", ...LEADING])
      : unknownCommand(
          name,
          commands.map((c) => c.name),
        );
    io.err(formatError("kata-build", `error: ${err.message}`, "run 'kata-build --help'", io.errStyle));
    return EXIT_USAGE;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(commandHelp(command));
    return 0;
  }
  return runCommand(command, [...leading, ...rest], io);
}

/** The command's options and the command line's own (--config where the file can set it). */
function flagTable(command: Command): OptionTable {
  const { config, configProfile, ...always } = cliOptions;
  return { ...command.options, ...always, ...(command.configurable ? { config, configProfile } : {}) };
}

function commandHelp(command: Command): string {
  return formatHelp(command.usage, command.description, flagTable(command));
}

async function runCommand(command: Command, argv: string[], io: CliIo): Promise<number> {
  const program = `kata-build ${command.name}`;
  let json = argv.includes("--json");
  try {
    const { given, positionals } = parseFlags(flagTable(command), argv);
    const {
      json: jsonFlag,
      quiet,
      config,
      configProfile: profile,
      ...flags
    } = given as Record<string, unknown>;
    json = jsonFlag === true;
    if (positionals.length && !command.positionals) {
      throw new UsageError(`unexpected argument '${positionals[0]}'`);
    }
    if (profile !== undefined && config === undefined)
      throw new UsageError("--config-profile needs --config FILE");
    const fromFile =
      typeof config === "string"
        ? ((await loadBuildConfig(config, profile === undefined ? {} : { profile: String(profile) }))[
            command.name as never
          ] ?? {})
        : {};
    const hooks: BuildHooks =
      quiet === true ? {} : { onProgress: (event) => io.err(`${progressLine(event, io.errStyle)}\n`) };
    const result = await command.run({ ...fromFile, ...flags }, positionals, {
      hooks,
      json,
      print: (text) => {
        if (!json) io.out(text);
      },
      event: (event, text) => io.out(json ? `${JSON.stringify(event)}\n` : `${text}\n`),
    });
    if (command.streams) return 0;
    if (json) io.out(`${JSON.stringify(result ?? {}, null, 2)}\n`);
    else {
      const text = command.text?.(result);
      if (text) io.out(text);
    }
    return 0;
  } catch (err) {
    const usage = err instanceof UsageError;
    if (!usage && !(err instanceof BuildError)) throw err;
    const hint = usage ? `run '${program} --help'` : (err as BuildError).hint;
    io.err(formatError(program, `error: ${err.message}`, hint, io.errStyle));
    const error = { message: err.message, ...(hint ? { hint } : {}), usage };
    // A streaming command's stdout is one JSON object a line: its error is one more.
    if (json) {
      io.out(
        command.streams
          ? `${JSON.stringify({ event: "error", error })}\n`
          : `${JSON.stringify({ error }, null, 2)}\n`,
      );
    }
    return usage ? EXIT_USAGE : EXIT_FAILURE;
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
