// kata-build.toml: build settings in a file, as mkosi.conf holds mkosi's. One table per command
// holds that command's options by their flag names; [profiles.NAME.COMMAND] tables apply on top
// when the profile is chosen; flags given on the command line (or properties given to a library
// function) win over both. The option tables check every key: an unknown key, a wrong type or a
// value outside the choices is an error naming the key and the file. Relative paths in the file
// are taken from the file's directory.
//
//   [rootfs]
//   distro = "debian"
//   agent-init = true
//   package = ["curl"]
//
//   [image]
//   fs = "erofs"
//   verity = true
//
//   [profiles.debug.rootfs]
//   package = ["curl", "strace"]
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import { didYouMean, UsageError } from "../../../agent/src/cli/index.js";
import { checkOptions, type Given, type OptionTable } from "../util/options.js";
import { type BuildTables, buildTables } from "./tables.js";

/** The options the file gives each command (after the chosen profile), ready to merge. */
export type BuildConfig = { [C in keyof BuildTables]?: Given<BuildTables[C]> };

export interface LoadConfigOptions {
  /** Apply [profiles.NAME.*] over the command tables. */
  profile?: string;
}

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** Reads and checks a kata-build.toml; throws a UsageError naming the file and key on any fault. */
export async function loadBuildConfig(file: string, options: LoadConfigOptions = {}): Promise<BuildConfig> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new UsageError(
      `cannot read the configuration file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let doc: Table;
  try {
    doc = parseToml(text) as Table;
  } catch (err) {
    throw new UsageError(`${path} is not valid TOML: ${(err as Error).message.split("\n")[0]}`);
  }
  return configFrom(doc, path, options.profile);
}

/** The checked settings of a parsed document (`path` names it in messages and anchors paths). */
export function configFrom(doc: Table, path: string, profile?: string): BuildConfig {
  const commands = Object.keys(buildTables);
  const config: Record<string, Record<string, unknown>> = {};
  const sections = (tables: Table, where: string): Record<string, Table> => {
    const out: Record<string, Table> = {};
    for (const [key, value] of Object.entries(tables)) {
      if (!commands.includes(key)) {
        throw new UsageError(
          `${path}: unknown table [${where}${key}]${didYouMean(key, commands)}; the tables are ${commands.map((c) => `[${where}${c}]`).join(", ")}${where ? "" : " and [profiles.NAME.COMMAND]"}`,
        );
      }
      if (!isTable(value)) throw new UsageError(`${path}: ${where}${key} must be a table ([${where}${key}])`);
      out[key] = value;
    }
    return out;
  };
  const { profiles, ...top } = doc;
  const layers = [sections(top, "")];
  if (profiles !== undefined && !isTable(profiles))
    throw new UsageError(`${path}: profiles must be a table of profiles`);
  if (profile !== undefined) {
    const names = Object.keys(profiles ?? {});
    const chosen = (profiles as Table | undefined)?.[profile];
    if (!isTable(chosen)) {
      throw new UsageError(
        `${path} has no profile '${profile}'${didYouMean(profile, names)}` +
          (names.length
            ? `; its profiles: ${names.join(", ")}`
            : "; it defines none ([profiles.NAME.COMMAND])"),
      );
    }
    layers.push(sections(chosen, `profiles.${profile}.`));
  } else if (isTable(profiles)) {
    // Check every profile even when none is chosen: a typo should not wait for its day.
    for (const [name, tables] of Object.entries(profiles)) {
      if (!isTable(tables)) throw new UsageError(`${path}: profiles.${name} must be a table`);
      for (const [command, values] of Object.entries(sections(tables, `profiles.${name}.`))) {
        check(command, values, `profiles.${name}.${command}`, path);
      }
    }
  }
  for (const layer of layers) {
    for (const [command, values] of Object.entries(layer)) {
      config[command] = { ...config[command], ...check(command, values, command, path) };
    }
  }
  return config as BuildConfig;
}

function check(command: string, values: Table, where: string, path: string): Record<string, unknown> {
  const table = buildTables[command as keyof BuildTables] as OptionTable;
  return checkOptions(table, values, {
    describe: (key) => `'${key}' in [${where}] of ${path}`,
    baseDir: dirname(path),
    noun: "key",
  });
}
