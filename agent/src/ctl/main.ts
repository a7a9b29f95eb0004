// kata-agent-ctl: talks to a Kata agent from the command line. The options before the command
// (and --addr/--connect-timeout anywhere) set up one session; the command line, the -c lines, a
// script or an interactive prompt supply the commands, each run over the session's connection.
import { readFileSync } from "node:fs";
import { EXIT_FAILURE, EXIT_USAGE, UsageError, unknownFlag } from "../cli/index.js";
import { AddressError, AgentError, codeName, DialError, SpecOptionError } from "../client/index.js";
import { AGENT_VERSION, API_VERSION } from "../version.js";
import { commandFor, usage } from "./commands.js";
import { parseDuration } from "./duration.js";
import { interactive } from "./interactive.js";
import { type Io, processIo, reportError } from "./io.js";
import type { OutputMode } from "./render.js";
import { Session } from "./session.js";
import { parseClientAddress } from "./standalone-commands.js";
import { splitWords } from "./words.js";

interface Globals {
  addr?: string;
  timeoutMs: number;
  connectTimeoutMs: number;
  lines: string[];
  file?: string;
  interactive: boolean;
  repeat: number;
  keepGoing: boolean;
  quiet: boolean;
  output: OutputMode;
  version: boolean;
  help: boolean;
  /** The command given on the command line itself, with its arguments. */
  command: string[];
}

/** Options taken before the command word. */
const LEADING = [
  "--addr",
  "--timeout",
  "--connect-timeout",
  "-c",
  "--command",
  "-f",
  "--file",
  "-i",
  "--interactive",
  "--repeat",
  "--keep-going",
  "-q",
  "--quiet",
  "--json",
  "--text",
  "--raw",
  "-V",
  "--version",
  "-h",
  "--help",
];
/** Options taken anywhere before "--" (the connection's, as the ctl always allowed). */
const ANYWHERE = new Set(["--addr", "--connect-timeout"]);

export function parseGlobals(argv: string[]): Globals {
  const g: Globals = {
    timeoutMs: 30_000,
    connectTimeoutMs: 5_000,
    lines: [],
    interactive: false,
    repeat: 1,
    keepGoing: false,
    quiet: false,
    output: "auto",
    version: false,
    help: false,
    command: [],
  };
  let i = 0;
  const take = (flag: string, inline: string | undefined) => {
    const v = inline ?? argv[++i];
    if (v === undefined) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  const apply = (flag: string, inline: string | undefined): boolean => {
    switch (flag) {
      case "--addr":
        g.addr = take(flag, inline);
        return true;
      case "--timeout":
        g.timeoutMs = parseDuration(take(flag, inline), flag);
        return true;
      case "--connect-timeout":
        g.connectTimeoutMs = parseDuration(take(flag, inline), flag);
        return true;
      case "-c":
      case "--command":
        g.lines.push(take(flag, inline));
        return true;
      case "-f":
      case "--file":
        g.file = take(flag, inline);
        return true;
      case "-i":
      case "--interactive":
        g.interactive = true;
        return true;
      case "--repeat": {
        const text = take(flag, inline);
        g.repeat = Number(text);
        if (!Number.isInteger(g.repeat) || g.repeat < 1)
          throw new UsageError(`--repeat takes a count, not '${text}'`);
        return true;
      }
      case "--keep-going":
        g.keepGoing = true;
        return true;
      case "-q":
      case "--quiet":
        g.quiet = true;
        return true;
      case "--json":
      case "--text":
      case "--raw":
        g.output = flag.slice(2) as OutputMode;
        return true;
      case "-V":
      case "--version":
        g.version = true;
        return true;
      case "-h":
      case "--help":
        g.help = true;
        return true;
      default:
        return false;
    }
  };
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const [flag, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    if (g.command.length === 0) {
      if (apply(flag, inline)) continue;
      if (flag.startsWith("-") && flag !== "-" && !/^-\d/.test(flag)) throw unknownFlag(flag, LEADING);
      g.command.push(arg);
      continue;
    }
    if (arg === "--") {
      g.command.push(...argv.slice(i));
      break;
    }
    if (ANYWHERE.has(flag) && apply(flag, inline)) continue;
    g.command.push(arg);
  }
  return g;
}

function scriptLines(file: string, io: Io): string[] {
  if (file === "-") return io.stdin().split("\n");
  try {
    return readFileSync(file, "utf8").split("\n");
  } catch (err) {
    throw new UsageError(
      `cannot read the script ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/** Runs one command's words, reporting its errors; returns its exit code. */
export async function runWords(words: string[], session: Session): Promise<number> {
  if (words.length === 0) return 0;
  const [name, ...args] = words;
  try {
    return await commandFor(name!).run(args, session);
  } catch (err) {
    if (err instanceof UsageError || err instanceof AddressError || err instanceof SpecOptionError) {
      reportError(session.io, err.message, `run 'kata-agent-ctl ${commandHelpName(name!)}--help'`);
      return EXIT_USAGE;
    }
    if (err instanceof AgentError) {
      reportError(session.io, `${name} failed: ${codeName(err.code)} (${err.code}): ${err.message}`);
      return EXIT_FAILURE;
    }
    if (err instanceof DialError) {
      reportError(session.io, err.message, "check --addr, and that the agent is running");
      return EXIT_FAILURE;
    }
    throw err;
  }
}

function commandHelpName(name: string): string {
  try {
    commandFor(name);
    return `${name} `;
  } catch {
    return "";
  }
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  let g: Globals;
  try {
    g = parseGlobals(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    reportError(io, err.message, "run 'kata-agent-ctl --help'");
    return EXIT_USAGE;
  }
  if (g.version) {
    io.out(`kata-agent-ctl ${AGENT_VERSION} (agent API ${API_VERSION}, node ${process.version})\n`);
    return 0;
  }
  const lines: string[][] = [];
  try {
    for (const line of g.lines) lines.push(splitWords(line));
    if (g.file !== undefined) {
      for (const line of scriptLines(g.file, io)) {
        const words = splitWords(line);
        if (words.length) lines.push(words);
      }
    }
    if (g.command.length) lines.push(g.help ? [...g.command, "--help"] : g.command);
    const standalone = lines.find((words) => words[0] !== undefined && commandFor(words[0]).standalone);
    if (standalone && (lines.length > 1 || g.interactive || g.repeat > 1)) {
      throw new UsageError(`'${standalone[0]}' runs alone: not with other commands, -i or --repeat`);
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    reportError(io, err.message, "run 'kata-agent-ctl --help'");
    return EXIT_USAGE;
  }
  if (lines.length === 0 && !g.interactive) {
    if (g.help) {
      io.out(usage());
      return 0;
    }
    io.err(usage());
    return EXIT_USAGE;
  }
  let session: Session;
  try {
    const addr = g.addr ?? process.env.KATA_AGENT_ADDR;
    session = new Session(
      {
        ...(addr ? { address: parseClientAddress(addr) } : {}),
        connectTimeoutMs: g.connectTimeoutMs,
        timeoutMs: g.timeoutMs,
        output: g.output,
        quiet: g.quiet,
        stdinFree: g.file !== "-" && !g.interactive,
      },
      io,
    );
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    reportError(io, err.message, "run 'kata-agent-ctl --help'");
    return EXIT_USAGE;
  }
  try {
    const code = await runRepeated(lines, session, g);
    if (code !== 0 || !g.interactive) return code;
    return await interactive(session, (words) => runWords(words, session));
  } finally {
    await session.close();
  }
}

/** The lines in order, `repeat` times; stops at the first failure unless --keep-going. */
async function runRepeated(lines: string[][], session: Session, g: Globals): Promise<number> {
  const times: number[] = [];
  let last = 0;
  for (let round = 0; round < g.repeat; round++) {
    const started = performance.now();
    for (const words of lines) {
      const code = await runWords(words, session);
      if (code !== 0) {
        if (!g.keepGoing) return code;
        last = code;
      }
    }
    times.push(performance.now() - started);
  }
  if (g.repeat > 1) session.io.err(timingSummary(times, lines.length));
  return last;
}

export function timingSummary(times: number[], commands: number): string {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const total = times.reduce((a, b) => a + b, 0);
  const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 1)} ms`;
  const what = commands === 1 ? "runs" : `runs of ${commands} commands`;
  return `${times.length} ${what} in ${(total / 1000).toFixed(2)} s: mean ${ms(total / times.length)}, p50 ${ms(at(0.5))}, p99 ${ms(at(0.99))}, max ${ms(sorted.at(-1)!)}\n`;
}
