// Reads the Kconfig files of a kernel tree into a table of symbol definitions: each symbol's
// type, prompt, `depends on` conditions (its own plus those of the enclosing `if`, `menu` and
// `choice` blocks) and the `select`s that force it on. Defaults and help text are skipped;
// nothing here decides values — `make olddefconfig` does that, we only explain the result.
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { type Expr, ExprSyntaxError, parseExpr } from "./expr.js";

export interface Condition {
  expr: Expr;
  /** Where the condition is written, e.g. `depends on (drivers/hv/Kconfig:7)` or `if BLOCK (fs/Kconfig:233)`. */
  origin: string;
}

export interface SymbolDefinition {
  name: string;
  type: string | undefined;
  file: string;
  line: number;
  /** Enclosing block conditions first, then the entry's own `depends on` lines. */
  conditions: Condition[];
  prompt?: { text: string; condition?: Expr };
  selects: { target: string; condition?: Expr }[];
  /** `default` and `def_bool` values in order; kconfig uses the first whose condition holds. */
  defaults: { value: Expr; condition?: Expr }[];
  /** Set when the entry sits directly inside a `choice` block: the choice's location. */
  choice?: string;
}

export interface Selector {
  by: string;
  condition?: Expr;
}

export interface KconfigTree {
  definitions: Map<string, SymbolDefinition[]>;
  /** Reverse `select` index: target → who selects it. */
  selectors: Map<string, Selector[]>;
  /** Choice location → member symbols. */
  choices: Map<string, string[]>;
  fileCount: number;
  /** Lines the parser did not understand (reported, never fatal). */
  warnings: string[];
  typeOf(name: string): string | undefined;
}

export interface TreeOptions {
  /** Kernel architecture directory name: `x86` or `arm64`. */
  srcarch: string;
  /** ARCH as given to make, e.g. `x86_64`. */
  arch: string;
}

interface Frame {
  kind: "if" | "menu" | "choice";
  conditions: Condition[];
  id?: string;
}

type Target =
  | { kind: "symbol"; def: SymbolDefinition }
  | { kind: "frame"; frame: Frame }
  | { kind: "ignore" }
  | { kind: "none" };

const TYPES = new Set(["bool", "tristate", "string", "int", "hex"]);

/** Column of the first non-blank character, with tabs to the next multiple of 8. */
function indentOf(line: string): number {
  let col = 0;
  for (const c of line) {
    if (c === " ") col++;
    else if (c === "\t") col = (Math.floor(col / 8) + 1) * 8;
    else break;
  }
  return col;
}

/** Drops a `#` comment that is outside quotes. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#") return line.slice(0, i);
  }
  return line;
}

/** Splits `"text" if EXPR` (or `WORD if EXPR`) into the head and the condition text. */
function splitIf(rest: string): { head: string; cond?: string } {
  const quoted = /^("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*(.*)$/.exec(rest);
  const head = quoted ? quoted[1]! : (/^\S+/.exec(rest)?.[0] ?? "");
  const tail = quoted ? quoted[2]! : rest.slice(head.length).trim();
  const cond = /^if\s+(.*)$/.exec(tail)?.[1];
  return cond === undefined ? { head } : { head, cond };
}

function unquoteText(text: string): string {
  return /^["']/.test(text) ? text.slice(1, -1) : text;
}

export function parseKconfigTree(srcDir: string, options: TreeOptions): KconfigTree {
  const definitions = new Map<string, SymbolDefinition[]>();
  const selectors = new Map<string, Selector[]>();
  const choices = new Map<string, string[]>();
  const warnings: string[] = [];
  const stack: Frame[] = [];
  let fileCount = 0;

  const macros: Record<string, string> = {
    SRCARCH: options.srcarch,
    ARCH: options.arch,
    HEADER_ARCH: options.srcarch,
  };

  const expand = (text: string) =>
    text.replace(/\$\(([A-Za-z_]+)\)/g, (m, name: string) => macros[name] ?? m);

  const expr = (text: string, where: string): Expr => {
    try {
      return parseExpr(text);
    } catch (err) {
      if (!(err instanceof ExprSyntaxError)) throw err;
      warnings.push(`${where}: ${err.message}`);
      return { kind: "macro", text };
    }
  };

  /** `EXPR [if COND]`; the value is split at a top-level ` if `. */
  const defaultOf = (text: string, where: string): { value: Expr; condition?: Expr } => {
    const quoted = /^("(?:[^"\\]|\\.)*")\s*(?:if\s+(.*))?$/.exec(text);
    const [valueText, condText] = quoted ? [quoted[1]!, quoted[2]] : text.split(/\s+if\s+/, 2);
    const value = expr(valueText ?? "", where);
    return condText ? { value, condition: expr(condText, where) } : { value };
  };

  function parseFile(path: string): void {
    let text: string;
    try {
      text = readFileSync(join(srcDir, path), "utf8");
    } catch {
      warnings.push(`missing Kconfig file ${path}`);
      return;
    }
    fileCount++;
    const rawLines = text.split("\n");
    let target: Target = { kind: "none" };
    let helpIndent: number | undefined;
    let inHelp = false;

    for (let i = 0; i < rawLines.length; i++) {
      const lineNo = i + 1;
      let raw = rawLines[i]!;
      if (inHelp) {
        if (raw.trim() === "") continue;
        const indent = indentOf(raw);
        if (helpIndent === undefined) helpIndent = indent;
        if (indent >= helpIndent && helpIndent > 0) continue;
        inHelp = false;
      }
      while (raw.endsWith("\\") && i + 1 < rawLines.length) raw = raw.slice(0, -1) + rawLines[++i]!;
      const line = stripComment(raw).trim();
      if (!line) continue;
      const where = `${path}:${lineNo}`;
      const keyword = /^\S+/.exec(line)![0];
      const rest = line.slice(keyword.length).trim();

      switch (keyword) {
        case "mainmenu":
          continue;
        case "source":
        case "osource":
        case "rsource":
        case "orsource": {
          const file = expand(unquoteText(rest));
          const resolved =
            keyword.startsWith("r") || keyword === "orsource" ? join(dirname(path), file) : file;
          if (file.includes("$(")) {
            warnings.push(`${where}: cannot expand '${file}'`);
          } else {
            parseFile(normalize(resolved));
          }
          target = { kind: "none" };
          continue;
        }
        case "config":
        case "menuconfig": {
          const def: SymbolDefinition = {
            name: rest,
            type: undefined,
            file: path,
            line: lineNo,
            conditions: stack.flatMap((f) => f.conditions),
            selects: [],
            defaults: [],
          };
          const top = stack[stack.length - 1];
          if (top?.kind === "choice") {
            def.choice = top.id!;
            choices.get(top.id!)!.push(rest);
          }
          const list = definitions.get(rest) ?? [];
          list.push(def);
          definitions.set(rest, list);
          target = { kind: "symbol", def };
          continue;
        }
        case "choice": {
          const frame: Frame = { kind: "choice", conditions: [], id: where };
          choices.set(where, []);
          stack.push(frame);
          target = { kind: "frame", frame };
          continue;
        }
        case "menu": {
          const frame: Frame = { kind: "menu", conditions: [] };
          stack.push(frame);
          target = { kind: "frame", frame };
          continue;
        }
        case "if": {
          stack.push({
            kind: "if",
            conditions: [{ expr: expr(rest, where), origin: `if ${rest} (${where})` }],
          });
          target = { kind: "none" };
          continue;
        }
        case "endif":
        case "endmenu":
        case "endchoice": {
          const expected = keyword.slice(3);
          const frame = stack.pop();
          if (frame?.kind !== expected)
            warnings.push(`${where}: ${keyword} closes a ${frame?.kind ?? "nothing"}`);
          target = { kind: "none" };
          continue;
        }
        case "comment":
          target = { kind: "ignore" };
          continue;
        case "help":
        case "---help---":
          inHelp = true;
          helpIndent = undefined;
          continue;
      }

      if (target.kind === "none" && (/^[A-Za-z0-9_-]+\s*(:=|\+=|=)/.test(line) || line.startsWith("$("))) {
        continue; // a Kconfig macro definition or a top-level $(error-if,...) check
      }

      const dependsOn = /^depends(?:\s+on)?\s+(.*)$/.exec(line);
      if (dependsOn) {
        const condition = { expr: expr(dependsOn[1]!, where), origin: `depends on (${where})` };
        if (target.kind === "symbol") target.def.conditions.push(condition);
        else if (target.kind === "frame") target.frame.conditions.push(condition);
        continue;
      }
      if (target.kind !== "symbol") continue; // attributes of menus, choices and comments
      const def = target.def;

      if (TYPES.has(keyword) || keyword === "def_bool" || keyword === "def_tristate") {
        def.type = keyword.startsWith("def_") ? keyword.slice(4) : keyword;
        if (!TYPES.has(keyword)) def.defaults.push(defaultOf(rest, where));
        else if (rest) {
          const { head, cond } = splitIf(rest);
          def.prompt = { text: unquoteText(head), ...(cond ? { condition: expr(cond, where) } : {}) };
        }
      } else if (keyword === "prompt") {
        const { head, cond } = splitIf(rest);
        def.prompt = { text: unquoteText(head), ...(cond ? { condition: expr(cond, where) } : {}) };
      } else if (keyword === "default") {
        def.defaults.push(defaultOf(rest, where));
      } else if (keyword === "select") {
        const { head, cond } = splitIf(rest);
        const condition = cond ? expr(cond, where) : undefined;
        def.selects.push({ target: head, ...(condition ? { condition } : {}) });
        const list = selectors.get(head) ?? [];
        list.push({ by: def.name, ...(condition ? { condition } : {}) });
        selectors.set(head, list);
      } else if (
        !["imply", "range", "option", "modules", "optional", "transitional", "visible"].includes(keyword)
      ) {
        warnings.push(`${where}: unknown attribute '${keyword}'`);
      }
    }
  }

  parseFile("Kconfig");
  if (stack.length) warnings.push(`${stack.length} block(s) left open at the end of the tree`);

  const types = new Map<string, string>();
  for (const [name, defs] of definitions) {
    const type = defs.find((d) => d.type)?.type;
    if (type) types.set(name, type);
  }
  return {
    definitions,
    selectors,
    choices,
    fileCount,
    warnings,
    typeOf: (name) => types.get(name) ?? (definitions.has(name) ? "unknown" : undefined),
  };
}
