// One typed table per command drives argument parsing, the library API's option objects, the
// build configuration file, defaults, validation and --help (mkosi's settings table, in
// miniature). A value reaches a command by one of three ways, all checked by the same code:
// a flag (parseFlags), a key of kata-build.toml (config-file.ts), or a property of the object
// given to the library function; resolveOptions then applies defaults and checks it all.
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { didYouMean, UsageError, unknownFlag } from "../../../agent/src/cli/index.js";

type Kind = "string" | "boolean" | "number" | "strings";
export type ValueOf<K extends Kind> = K extends "boolean"
  ? boolean
  : K extends "number"
    ? number
    : K extends "strings"
      ? string[]
      : string;

export interface OptionSpec<K extends Kind = Kind> {
  kind: K;
  help: string;
  /** Placeholder shown in --help, e.g. DIR. */
  arg?: string;
  short?: string;
  default?: ValueOf<K>;
  /** Allowed values (string and strings options). */
  choices?: readonly string[];
  /** The command cannot run without it. */
  required?: boolean;
  /**
   * A file or directory: made absolute against the working directory (for flags and library
   * calls) or the configuration file's directory (for its keys).
   */
  path?: boolean;
  /** Only on the command line (output format, verbosity): not a build setting. */
  cliOnly?: boolean;
}

export type OptionTable = Record<string, OptionSpec>;

/** Resolved values: options with a default are always present. */
export type Parsed<T extends OptionTable> = {
  [N in keyof T]: T[N] extends { default: unknown }
    ? ValueOf<T[N]["kind"]>
    : ValueOf<T[N]["kind"]> | undefined;
};

/** What a caller may give: any option, by its property name. */
export type Given<T extends OptionTable> = { [N in keyof T]?: ValueOf<T[N]["kind"]> };

/** The table without its command-line-only options: what the library functions take. */
export type BuildOptions<T extends OptionTable> = {
  [N in keyof T as T[N] extends { cliOnly: true } ? never : N]: T[N];
};

/** --agent-init for agentInit: flags and configuration keys are kebab-case. */
export const flagName = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The option a flag or configuration key names (kebab-case or the property name). */
export function optionNamed(table: OptionTable, key: string): string | undefined {
  if (Object.hasOwn(table, key)) return key;
  return Object.keys(table).find((name) => flagName(name) === key);
}

/** The values a command line gives (no defaults yet): flags parsed, numbers read. */
export function parseFlags<T extends OptionTable>(
  table: T,
  argv: string[],
): { given: Given<T>; positionals: string[] } {
  const config: NonNullable<Parameters<typeof parseArgs>[0]>["options"] = {};
  for (const [name, spec] of Object.entries(table)) {
    config[flagName(name)] = {
      type: spec.kind === "boolean" ? "boolean" : "string",
      multiple: spec.kind === "strings",
      ...(spec.short ? { short: spec.short } : {}),
    };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: config, allowPositionals: true, strict: true });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const flag = /'([^']+)'/.exec((err as Error).message)?.[1];
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag) throw unknownFlag(flag, flagsOf(table));
    throw new UsageError((err as Error).message.replace(/\. To specify[\s\S]*$/, ""));
  }
  const given: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) {
    const raw = parsed.values[flagName(name)];
    if (raw === undefined) continue;
    if (spec.kind === "number") {
      const n = Number(raw);
      if (raw === "" || !Number.isFinite(n)) {
        throw new UsageError(`--${flagName(name)}: '${String(raw)}' is not a number`);
      }
      given[name] = n;
    } else given[name] = raw;
  }
  return { given: given as Given<T>, positionals: parsed.positionals };
}

/** Every flag of a table, as typed (--long and -s). */
export function flagsOf(table: OptionTable): string[] {
  return Object.entries(table).flatMap(([name, spec]) => [
    `--${flagName(name)}`,
    ...(spec.short ? [`-${spec.short}`] : []),
  ]);
}

const kindName: Record<Kind, string> = {
  string: "a string",
  boolean: "true or false",
  number: "a number",
  strings: "a list of strings",
};

function typeMatches(spec: OptionSpec, value: unknown): boolean {
  switch (spec.kind) {
    case "boolean":
      return typeof value === "boolean";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "strings":
      return Array.isArray(value) && value.every((v) => typeof v === "string");
    default:
      return typeof value === "string";
  }
}

export interface ResolveContext {
  /** How the option is named in messages: "--fs" for flags, "[image] fs in FILE" for a file. */
  describe?: (name: string) => string;
  /** Relative paths are taken from here (default: the working directory). */
  baseDir?: string;
  /** What an option is called in messages ("option"; a file's are "key"s). */
  noun?: string;
}

/**
 * Checks given values against the table (known names, types, choices) without filling in
 * anything; path options become absolute. Throws a UsageError naming the option.
 */
export function checkOptions<T extends OptionTable>(
  table: T,
  given: Record<string, unknown>,
  context: ResolveContext = {},
): Given<T> {
  const describe = context.describe ?? ((name: string) => `--${flagName(name)}`);
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    const name = optionNamed(table, key);
    if (!name) {
      // Suggested as the caller spells options: flag names in files and kebab-case, else properties.
      const kebab = key.includes("-") || context.describe !== undefined;
      const known = Object.keys(table).map((n) => (kebab ? flagName(n) : n));
      const shown = context.describe ? context.describe(key) : `'${key}'`;
      throw new UsageError(`unknown ${context.noun ?? "option"} ${shown}${didYouMean(key, known)}`);
    }
    const spec = table[name]!;
    if (!typeMatches(spec, value)) {
      throw new UsageError(`${describe(name)} must be ${kindName[spec.kind]}, not ${JSON.stringify(value)}`);
    }
    if (spec.choices) {
      for (const v of Array.isArray(value) ? value : [value]) {
        if (!spec.choices.includes(String(v))) {
          throw new UsageError(
            `${describe(name)}: '${String(v)}' is not one of ${spec.choices.join(", ")}${didYouMean(String(v), spec.choices)}`,
          );
        }
      }
    }
    values[name] = spec.path ? absolutePaths(value as string | string[], context.baseDir) : value;
  }
  return values as Given<T>;
}

/** Checks given values (checkOptions), then fills in defaults and insists on required options. */
export function resolveOptions<T extends OptionTable>(
  table: T,
  given: Record<string, unknown>,
  context: ResolveContext = {},
): Parsed<T> {
  const describe = context.describe ?? ((name: string) => `--${flagName(name)}`);
  const values: Record<string, unknown> = checkOptions(table, given, context);
  for (const [name, spec] of Object.entries(table)) {
    if (values[name] !== undefined) continue;
    if (spec.default !== undefined) {
      const value = Array.isArray(spec.default) ? [...spec.default] : spec.default;
      // A default path is the working directory's, wherever the other values came from.
      values[name] = spec.path ? absolutePaths(value as string | string[]) : value;
    } else if (spec.required) throw new UsageError(`${describe(name)} is required`);
  }
  return values as Parsed<T>;
}

function absolutePaths(value: string | string[], baseDir?: string): string | string[] {
  return Array.isArray(value) ? value.map((v) => absolute(v, baseDir)) : absolute(value, baseDir);
}

function absolute(path: string, baseDir = process.cwd()): string {
  if (path === "~" || path.startsWith("~/")) return join(homedir(), path.slice(1));
  return resolve(baseDir, path);
}

/** The library's view of a table: the options that are build settings. */
export function buildOptionsOf<T extends OptionTable>(table: T): BuildOptions<T> {
  return Object.fromEntries(Object.entries(table).filter(([, spec]) => !spec.cliOnly)) as BuildOptions<T>;
}

export function formatHelp(usage: string, summary: string, table: OptionTable): string {
  const rows = Object.entries(table).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : "    "}--${flagName(name)}${spec.kind === "boolean" ? "" : ` ${spec.arg ?? "VALUE"}`}`;
    const extra = [
      spec.required ? "required" : "",
      spec.choices ? `one of: ${spec.choices.join(", ")}` : "",
      spec.default !== undefined &&
      spec.default !== false &&
      !(Array.isArray(spec.default) && !spec.default.length)
        ? `default: ${String(spec.default)}`
        : "",
    ]
      .filter(Boolean)
      .join("; ");
    return { flag, help: extra ? `${spec.help} (${extra})` : spec.help };
  });
  rows.push({ flag: "-h, --help", help: "show this help" });
  const width = Math.max(...rows.map((r) => r.flag.length), 10) + 2;
  return [
    `Usage: ${usage}`,
    "",
    summary,
    "",
    "Options:",
    ...rows.map((r) => `  ${r.flag.padEnd(width)}${r.help}`),
    "",
  ].join("\n");
}
