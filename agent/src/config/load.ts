// Where settings come from, in the order upstream's agent reads them:
//  1. `--config FILE`: the TOML file, then environment overrides.
//  2. Otherwise the kernel command line (/proc/cmdline or a given file). If it names
//     agent.config_file, that TOML file is used instead and nothing else is read (as upstream:
//     no environment overrides in that case). Otherwise the agent.* parameters apply in order,
//     then environment overrides.
// Unknown agent.* parameters and TOML keys are warnings; a bad value is an error naming it. A
// setting this agent accepts but does not act on (the table's `unsupported`) is one warning
// naming it, whichever sources gave it.
import { readFileSync } from "node:fs";
import { parse as parseToml } from "smol-toml";
import { parseCmdline } from "./cmdline.js";
import { type AgentConfig, memAgentParameters, type Setting, settings } from "./table.js";
import { type RawValue, ValueError } from "./values.js";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export interface LoadInput {
  /** `kata-agent --config FILE`. */
  configFile?: string;
  /** Kernel command line text; read from `cmdlineFile` (default /proc/cmdline) when absent. */
  cmdline?: string;
  cmdlineFile?: string;
  env?: Record<string, string | undefined>;
  readFile?: (path: string) => string;
}

export interface Loaded {
  config: AgentConfig;
  warnings: string[];
  /** Which sources were read, in order, for the start-up log. */
  sources: string[];
}

type Key = keyof typeof settings;
const entries = Object.entries(settings) as [Key, Setting<unknown>][];
const byCmdline = new Map(entries.filter(([, s]) => s.cmdline).map(([k, s]) => [s.cmdline!, k] as const));
const byToml = new Map(entries.filter(([, s]) => s.toml).map(([k, s]) => [s.toml!, k] as const));

export function loadConfig(input: LoadInput = {}): Loaded {
  const readFile = input.readFile ?? ((path: string) => readFileSync(path, "utf8"));
  const env = input.env ?? process.env;
  const values = Object.fromEntries(entries.map(([k, s]) => [k, s.default])) as Record<Key, unknown>;
  const memAgent: Record<string, unknown> = {};
  const warnings: string[] = [];
  const sources: string[] = [];
  /** Each setting a source gave, with the first name it was given under. */
  const given = new Map<Key, string>();

  const set = (key: Key, raw: RawValue, origin: string) => {
    try {
      values[key] = settings[key].parse(raw);
      if (!given.has(key)) given.set(key, origin);
    } catch (err) {
      const why = err instanceof ValueError ? err.message : String(err);
      throw new ConfigError(`${origin}: invalid value ${JSON.stringify(String(raw))}: ${why}`);
    }
  };

  const applyToml = (path: string) => {
    let table: Record<string, unknown>;
    try {
      table = parseToml(readFile(path)) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`config file ${path}: ${(err as Error).message}`);
    }
    sources.push(`toml:${path}`);
    for (const [name, raw] of Object.entries(table)) {
      const key = byToml.get(name);
      if (key) set(key, raw as RawValue, `${path}: ${name}`);
      else if (name.startsWith("mem_agent_") && name.slice(10) in memAgentParameters) {
        memAgent[name.slice(10)] = memAgentParameters[name.slice(10)]!(raw as RawValue);
      } else warnings.push(`${path}: unknown key '${name}' ignored`);
    }
  };

  const applyEnv = () => {
    for (const [key, s] of entries) {
      const raw = s.env ? env[s.env] : undefined;
      if (raw !== undefined && raw !== "") set(key, raw, s.env!);
    }
    sources.push("env");
  };

  if (input.configFile) {
    applyToml(input.configFile);
    applyEnv();
  } else {
    const cmdlineFile = input.cmdlineFile ?? "/proc/cmdline";
    let cmdline = input.cmdline;
    if (cmdline === undefined) {
      try {
        cmdline = readFile(cmdlineFile);
      } catch (err) {
        warnings.push(`cannot read ${cmdlineFile}: ${(err as Error).message}; using defaults`);
        cmdline = "";
      }
    }
    const params = parseCmdline(cmdline);
    const configFile = params.find((p) => p.name === "agent.config_file");
    if (configFile?.value) {
      applyToml(configFile.value);
      return finish();
    }
    sources.push(input.cmdline === undefined ? `cmdline:${cmdlineFile}` : "cmdline");
    for (const { name, value } of params) {
      if (name === "cgroup_no_v1") {
        if (value === "all") values.unifiedCgroupHierarchy = true;
        continue;
      }
      const key = byCmdline.get(name);
      if (key) {
        const s = settings[key] as Setting<unknown>;
        if (value === undefined && !s.flag) throw new ConfigError(`${name}: needs a value (${name}=...)`);
        set(key, value ?? true, name);
      } else if (name.startsWith("agent.mem_agent_") && name.slice(16) in memAgentParameters) {
        const param = name.slice(16);
        try {
          memAgent[param] = memAgentParameters[param]!(value ?? true);
        } catch (err) {
          throw new ConfigError(`${name}: invalid value ${JSON.stringify(value)}: ${(err as Error).message}`);
        }
      } else if (name.startsWith("agent.") && name !== "agent.config_file") {
        warnings.push(`unknown kernel parameter '${name}' ignored`);
      }
    }
    applyEnv();
  }
  return finish();

  function finish(): Loaded {
    for (const [key, name] of given) {
      const s = settings[key] as Setting<unknown>;
      if (s.unsupported === undefined || s.honours?.(values[key])) continue;
      warnings.push(`${name} is not supported by this agent and is ignored: ${s.unsupported}`);
    }
    return { config: { ...values, memAgent } as AgentConfig, warnings, sources };
  }
}

/** `kata-agent --help` text for the settings, generated from the table. */
export function settingsHelp(): string {
  const describe = (s: Setting<unknown>) => {
    const names = [s.cmdline, s.env, s.toml ? `toml:${s.toml}` : undefined].filter(Boolean).join(" | ");
    return `  ${names}\n      ${s.help}${s.unsupported ? `\n      (${s.unsupported})` : ""}`;
  };
  const supported = entries.filter(([, s]) => s.unsupported === undefined).map(([, s]) => describe(s));
  const unsupported = entries.filter(([, s]) => s.unsupported !== undefined).map(([, s]) => describe(s));
  return [
    "Supported:",
    ...supported,
    "",
    "Accepted for compatibility but not supported (a warning names each one that is set):",
    ...unsupported,
  ].join("\n");
}
