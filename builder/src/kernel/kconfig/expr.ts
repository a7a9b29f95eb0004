// Kconfig expressions (`depends on`, `if`, `select ... if`): parsing, tristate evaluation
// against a finished .config, and the first false term of a conjunction, which is what a
// report names as the dependency that dropped an option.
//
// Grammar (as in scripts/kconfig/parser.y): `||` binds loosest, then `&&`, then `!`; a
// comparison (`=`, `!=`, `<`, `<=`, `>`, `>=`) joins two symbols, never two expressions.
// `$(...)` macros are expanded by kconfig at parse time from compiler probes; we cannot rerun
// those, so they evaluate to "unknown" and are never reported as the false term.

export type Expr =
  | { kind: "symbol"; name: string }
  | { kind: "string"; value: string }
  | { kind: "macro"; text: string }
  | { kind: "not"; operand: Expr }
  | { kind: "and" | "or"; left: Expr; right: Expr }
  | { kind: "compare"; op: CompareOp; left: Expr; right: Expr };

export type CompareOp = "=" | "!=" | "<" | "<=" | ">" | ">=";

/** n = 0, m = 1, y = 2; null = cannot be evaluated here (a compiler-probe macro). */
export type Tristate = 0 | 1 | 2 | null;

export class ExprSyntaxError extends Error {
  override readonly name = "ExprSyntaxError";
}

type Token = { t: "word" | "string" | "macro" | "op"; v: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === " " || c === "\t") {
      i++;
    } else if (c === "$" && text[i + 1] === "(") {
      let depth = 0;
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === "(") depth++;
        else if (text[j] === ")" && --depth === 0) break;
      }
      if (j >= text.length) throw new ExprSyntaxError(`unterminated macro in '${text}'`);
      tokens.push({ t: "macro", v: text.slice(i, j + 1) });
      i = j + 1;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let value = "";
      for (; j < text.length && text[j] !== c; j++) {
        if (text[j] === "\\") j++;
        value += text[j] ?? "";
      }
      if (j >= text.length) throw new ExprSyntaxError(`unterminated string in '${text}'`);
      tokens.push({ t: "string", v: value });
      i = j + 1;
    } else {
      const op = /^(&&|\|\||!=|<=|>=|[!=<>()])/.exec(text.slice(i));
      if (op) {
        tokens.push({ t: "op", v: op[1]! });
        i += op[1]!.length;
        continue;
      }
      const word = /^[A-Za-z0-9_.-]+/.exec(text.slice(i));
      if (!word) throw new ExprSyntaxError(`unexpected '${c}' in '${text}'`);
      tokens.push({ t: "word", v: word[0] });
      i += word[0].length;
    }
  }
  return tokens;
}

export function parseExpr(text: string): Expr {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const isOp = (v: string) => peek()?.t === "op" && peek()?.v === v;

  function parseOr(): Expr {
    let left = parseAnd();
    while (isOp("||")) {
      pos++;
      left = { kind: "or", left, right: parseAnd() };
    }
    return left;
  }
  function parseAnd(): Expr {
    let left = parseUnary();
    while (isOp("&&")) {
      pos++;
      left = { kind: "and", left, right: parseUnary() };
    }
    return left;
  }
  function parseUnary(): Expr {
    if (isOp("!")) {
      pos++;
      return { kind: "not", operand: parseUnary() };
    }
    if (isOp("(")) {
      pos++;
      const inner = parseOr();
      if (!isOp(")")) throw new ExprSyntaxError(`missing ')' in '${text}'`);
      pos++;
      return inner;
    }
    const left = parseAtom();
    const next = peek();
    if (next?.t === "op" && ["=", "!=", "<", "<=", ">", ">="].includes(next.v)) {
      pos++;
      return { kind: "compare", op: next.v as CompareOp, left, right: parseAtom() };
    }
    return left;
  }
  function parseAtom(): Expr {
    const token = tokens[pos++];
    if (!token) throw new ExprSyntaxError(`expression ends early: '${text}'`);
    if (token.t === "word") return { kind: "symbol", name: token.v };
    if (token.t === "string") return { kind: "string", value: token.v };
    if (token.t === "macro") return { kind: "macro", text: token.v };
    throw new ExprSyntaxError(`unexpected '${token.v}' in '${text}'`);
  }

  const expr = parseOr();
  if (pos !== tokens.length) throw new ExprSyntaxError(`unexpected '${tokens[pos]!.v}' in '${text}'`);
  return expr;
}

/** What evaluation needs to know about symbols. */
export interface SymbolEnv {
  /** The symbol's value in the final .config (as written there), or undefined if absent. */
  value(name: string): string | undefined;
  /** "bool" | "tristate" | ... for symbols the Kconfig tree defines, undefined otherwise. */
  type(name: string): string | undefined;
}

const TRI: Record<string, 0 | 1 | 2> = { n: 0, m: 1, y: 2 };

function symbolTristate(name: string, env: SymbolEnv): Tristate {
  const type = env.type(name);
  if (type === undefined) {
    // Constants: y, n and m (which means "m if MODULES").
    if (name === "m") return env.value("MODULES") === "y" ? 1 : 0;
    return TRI[name] ?? 0;
  }
  if (type !== "bool" && type !== "tristate") return 0;
  return TRI[env.value(name) ?? "n"] ?? 0;
}

/** The string a comparison sees for one side. */
function operandText(expr: Expr, env: SymbolEnv): string | null {
  switch (expr.kind) {
    case "string":
      return expr.value;
    case "macro":
      return null;
    case "symbol": {
      const type = env.type(expr.name);
      if (type === undefined) return expr.name;
      const value = env.value(expr.name);
      if (type === "bool" || type === "tristate") return value ?? "n";
      return value === undefined ? "" : value.replace(/^"(.*)"$/, "$1");
    }
    default:
      return null;
  }
}

function asNumber(text: string): number | undefined {
  if (/^-?\d+$/.test(text)) return Number(text);
  if (/^0x[0-9a-f]+$/i.test(text)) return Number.parseInt(text, 16);
  return undefined;
}

export function evaluate(expr: Expr, env: SymbolEnv): Tristate {
  switch (expr.kind) {
    case "symbol":
      return symbolTristate(expr.name, env);
    case "string":
      return TRI[expr.value] ?? 0;
    case "macro":
      return null;
    case "not": {
      const v = evaluate(expr.operand, env);
      return v === null ? null : ((2 - v) as Tristate);
    }
    case "and": {
      const l = evaluate(expr.left, env);
      const r = evaluate(expr.right, env);
      if (l === 0 || r === 0) return 0;
      if (l === null || r === null) return null;
      return Math.min(l, r) as Tristate;
    }
    case "or": {
      const l = evaluate(expr.left, env);
      const r = evaluate(expr.right, env);
      if (l === 2 || r === 2) return 2;
      if (l === null || r === null) return null;
      return Math.max(l, r) as Tristate;
    }
    case "compare": {
      const l = operandText(expr.left, env);
      const r = operandText(expr.right, env);
      if (l === null || r === null) return null;
      const ln = asNumber(l);
      const rn = asNumber(r);
      const cmp = ln !== undefined && rn !== undefined ? ln - rn : l < r ? -1 : l > r ? 1 : 0;
      const ops: Record<CompareOp, boolean> = {
        "=": cmp === 0,
        "!=": cmp !== 0,
        "<": cmp < 0,
        "<=": cmp <= 0,
        ">": cmp > 0,
        ">=": cmp >= 0,
      };
      return ops[expr.op] ? 2 : 0;
    }
  }
}

/** The terms of a top-level conjunction, in source order. */
export function conjuncts(expr: Expr): Expr[] {
  return expr.kind === "and" ? [...conjuncts(expr.left), ...conjuncts(expr.right)] : [expr];
}

/** The first term of a conjunction that evaluates to n, or undefined if none does. */
export function firstFalseTerm(expr: Expr, env: SymbolEnv): Expr | undefined {
  return conjuncts(expr).find((term) => evaluate(term, env) === 0);
}

/** Symbols an expression mentions, in order, without constants. */
export function symbolsOf(expr: Expr, env?: SymbolEnv): string[] {
  switch (expr.kind) {
    case "symbol":
      return env && env.type(expr.name) === undefined ? [] : [expr.name];
    case "not":
      return symbolsOf(expr.operand, env);
    case "and":
    case "or":
    case "compare":
      return [...new Set([...symbolsOf(expr.left, env), ...symbolsOf(expr.right, env)])];
    default:
      return [];
  }
}

const PRECEDENCE: Record<Expr["kind"], number> = {
  or: 1,
  and: 2,
  not: 3,
  compare: 4,
  symbol: 5,
  string: 5,
  macro: 5,
};

export function renderExpr(expr: Expr, parent = 0): string {
  let text: string;
  switch (expr.kind) {
    case "symbol":
      text = expr.name;
      break;
    case "string":
      text = `"${expr.value}"`;
      break;
    case "macro":
      text = expr.text;
      break;
    case "not":
      text = `!${renderExpr(expr.operand, PRECEDENCE.not)}`;
      break;
    case "and":
    case "or": {
      const p = PRECEDENCE[expr.kind];
      text = `${renderExpr(expr.left, p)} ${expr.kind === "and" ? "&&" : "||"} ${renderExpr(expr.right, p)}`;
      break;
    }
    case "compare":
      text = `${renderExpr(expr.left, 5)} ${expr.op} ${renderExpr(expr.right, 5)}`;
      break;
  }
  return PRECEDENCE[expr.kind] < parent ? `(${text})` : text;
}

/** `A && B`, for combining enclosing conditions; undefined parts are skipped. */
export function and(...parts: (Expr | undefined)[]): Expr | undefined {
  return parts.reduce<Expr | undefined>(
    (acc, part) =>
      part === undefined ? acc : acc === undefined ? part : { kind: "and", left: acc, right: part },
    undefined,
  );
}
