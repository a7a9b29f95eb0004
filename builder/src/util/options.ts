// One typed table per command drives argument parsing, defaults, validation and --help
// (mkosi's settings table, in miniature).
import { parseArgs } from "node:util";
import { BuildError } from "./errors.js";

type Kind = "string" | "boolean" | "number" | "strings";
type ValueOf<K extends Kind> = K extends "boolean"
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
  /** Allowed values (string options). */
  choices?: readonly string[];
}

export type OptionTable = Record<string, OptionSpec>;

/** Parsed values: options with a default are always present. */
export type Parsed<T extends OptionTable> = {
  [N in keyof T]: T[N] extends { default: unknown }
    ? ValueOf<T[N]["kind"]>
    : ValueOf<T[N]["kind"]> | undefined;
};

const flagName = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export function parseOptions<T extends OptionTable>(
  command: string,
  table: T,
  argv: string[],
): { values: Parsed<T>; positionals: string[] } {
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
    throw new BuildError(`${command}: ${(err as Error).message}`, `run 'kata-build ${command} --help'`);
  }
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) {
    const raw = parsed.values[flagName(name)];
    if (raw === undefined) {
      if (spec.default !== undefined) values[name] = spec.default;
      continue;
    }
    if (spec.kind === "number") {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new BuildError(`--${flagName(name)}: '${String(raw)}' is not a number`);
      values[name] = n;
    } else {
      if (spec.choices && !spec.choices.includes(String(raw))) {
        throw new BuildError(
          `--${flagName(name)}: '${String(raw)}' is not one of ${spec.choices.join(", ")}`,
          `run 'kata-build ${command} --help'`,
        );
      }
      values[name] = raw;
    }
  }
  return { values: values as Parsed<T>, positionals: parsed.positionals };
}

export function formatHelp(usage: string, summary: string, table: OptionTable): string {
  const rows = Object.entries(table).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : "    "}--${flagName(name)}${spec.kind === "boolean" ? "" : ` ${spec.arg ?? "VALUE"}`}`;
    const extra = [
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
  rows.push({ flag: "    --help", help: "show this help" });
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
