// The `.config` line format, shared by kernel config files and our fragments:
//   CONFIG_FOO=y | CONFIG_FOO=m | CONFIG_FOO=123 | CONFIG_FOO=0x10 | CONFIG_FOO="text"
//   # CONFIG_FOO is not set        (stored as the value "n")
// Fragments may also carry directives in comments, e.g. `# arch: x86_64 arm64`.

export interface ConfigEntry {
  /** Symbol name without the CONFIG_ prefix. */
  symbol: string;
  /** Right-hand side exactly as written (strings keep their quotes); "n" for "is not set". */
  value: string;
  line: number;
}

export interface ParsedConfig {
  entries: ConfigEntry[];
  /** `# key: words...` comment directives, e.g. { arch: ["x86_64"] }. */
  directives: Record<string, string[]>;
  /** The leading comment block, without the `# ` markers. */
  header: string;
}

export class ConfigSyntaxError extends Error {
  override readonly name = "ConfigSyntaxError";
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
  }
}

const SET = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/;
const UNSET = /^# CONFIG_([A-Za-z0-9_]+) is not set\s*$/;
const DIRECTIVE = /^#\s*(arch):\s*(.*)$/;
const VALUE = /^(?:[ynm]|-?\d+|0x[0-9a-fA-F]+|"(?:[^"\\]|\\.)*")$/;

/**
 * Parses `.config` text. With `strict` (fragments), anything that is not an assignment, a
 * comment or a blank line is an error, and so is a symbol assigned twice in one file.
 */
export function parseConfig(text: string, file: string, strict = false): ParsedConfig {
  const entries: ConfigEntry[] = [];
  const directives: Record<string, string[]> = {};
  const seen = new Map<string, number>();
  const headerLines: string[] = [];
  let inHeader = true;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trimEnd();
    const lineNo = i + 1;
    const set = SET.exec(raw);
    const unset = set ? null : UNSET.exec(raw);
    if (set || unset) {
      inHeader = false;
      const symbol = (set ?? unset)![1]!;
      const value = set ? set[2]!.trim() : "n";
      if (strict && !VALUE.test(value)) {
        throw new ConfigSyntaxError(file, lineNo, `CONFIG_${symbol}: '${value}' is not a valid value`);
      }
      const earlier = seen.get(symbol);
      if (strict && earlier !== undefined) {
        throw new ConfigSyntaxError(file, lineNo, `CONFIG_${symbol} is already set on line ${earlier}`);
      }
      seen.set(symbol, lineNo);
      entries.push({ symbol, value, line: lineNo });
      continue;
    }
    const directive = DIRECTIVE.exec(raw);
    if (directive) {
      directives[directive[1]!] = directive[2]!.split(/\s+/).filter(Boolean);
      continue;
    }
    if (raw.startsWith("#")) {
      if (inHeader) headerLines.push(raw.replace(/^#\s?/, ""));
      continue;
    }
    if (raw.trim() === "") {
      if (inHeader && headerLines.length) inHeader = false;
      continue;
    }
    if (strict) throw new ConfigSyntaxError(file, lineNo, `cannot parse '${raw}'`);
  }
  return { entries, directives, header: headerLines.join("\n").trim() };
}

/** The values of a full `.config`, by symbol; absent symbols are not in the map. */
export function configValues(text: string, file = ".config"): Map<string, string> {
  const values = new Map<string, string>();
  for (const entry of parseConfig(text, file).entries) values.set(entry.symbol, entry.value);
  return values;
}

/** One `.config` line for a symbol and value. */
export function formatEntry(symbol: string, value: string): string {
  return value === "n" ? `# CONFIG_${symbol} is not set` : `CONFIG_${symbol}=${value}`;
}

/** A string value without its quotes and escapes; other values unchanged. */
export function unquote(value: string): string {
  if (!value.startsWith('"')) return value;
  return value.slice(1, -1).replace(/\\(.)/g, "$1");
}
