// Why a requested value did not survive `make olddefconfig`, in one line a user can act on:
// the option is not in this kernel, a dependency is off (naming the first false term and
// where it is written), its prompt is hidden and nothing selects it, a select forces it on,
// or another member of its choice won.
import { configValues, unquote } from "./config-file.js";
import {
  type Expr,
  evaluate,
  firstFalseTerm,
  renderExpr,
  type SymbolEnv,
  symbolsOf,
  type Tristate,
} from "./expr.js";
import type { Request } from "./merge.js";
import type { KconfigTree, SymbolDefinition } from "./tree.js";

export interface Drop {
  symbol: string;
  requested: string;
  /** Final value, "n" when the option is absent from .config. */
  actual: string;
  /** The fragment that asked for it. */
  from: string;
  /** True when no Kconfig file of this tree defines the option. */
  absent: boolean;
  /** One-line explanation. */
  reason: string;
  /** The dependency that dropped it, when one was found (for chaining reports). */
  blockedBy?: string[];
}

/** Values as the evaluator sees them; bool/tristate options missing from .config are n. */
export function envFor(tree: KconfigTree, finalConfig: Map<string, string>): SymbolEnv {
  return { value: (name) => finalConfig.get(name), type: (name) => tree.typeOf(name) };
}

/** Requested values that differ from the final .config. */
export function findDrops(requests: Iterable<Request>, finalConfig: Map<string, string>): Request[] {
  const dropped: Request[] = [];
  for (const request of requests) {
    const actual = finalConfig.get(request.symbol) ?? "n";
    if (!sameValue(request.value, actual)) dropped.push(request);
  }
  return dropped;
}

function sameValue(requested: string, actual: string): boolean {
  if (requested === actual) return true;
  const a = unquote(requested);
  const b = unquote(actual);
  if (a === b) return true;
  const na = Number(a);
  const nb = Number(b);
  return a !== "" && b !== "" && Number.isFinite(na) && Number.isFinite(nb) && na === nb;
}

function describeTerm(term: Expr, env: SymbolEnv): string {
  if (term.kind === "symbol" && env.type(term.name) === undefined && !["y", "m", "n"].includes(term.name)) {
    return `${term.name} (not an option of this kernel)`;
  }
  const names = symbolsOf(term, env);
  const values = names.map(
    (n) => `${n}=${env.value(n) ?? (env.type(n) === "bool" || env.type(n) === "tristate" ? "n" : '""')}`,
  );
  return names.length === 1 && term.kind === "symbol"
    ? `${values[0]}`
    : `${renderExpr(term)}${values.length ? ` [${values.join(", ")}]` : ""}`;
}

/** Whether all of a definition's conditions (blocks and `depends on`) hold. */
function conditionsHold(def: SymbolDefinition, env: SymbolEnv): Tristate {
  let result: Tristate = 2;
  for (const c of def.conditions) {
    const v = evaluate(c.expr, env);
    if (v === 0) return 0;
    if (v === null) result = null;
  }
  return result;
}

function selectorsOn(tree: KconfigTree, symbol: string, env: SymbolEnv): string[] {
  return (tree.selectors.get(symbol) ?? [])
    .filter((s) => (evaluate({ kind: "symbol", name: s.by }, env) ?? 0) > 0)
    .filter((s) => !s.condition || (evaluate(s.condition, env) ?? 2) > 0)
    .map((s) => s.by);
}

function selectorList(tree: KconfigTree, symbol: string): string {
  const all = [...new Set((tree.selectors.get(symbol) ?? []).map((s) => s.by))];
  if (!all.length) return "nothing selects it";
  const shown = all.slice(0, 6).join(", ");
  return `only 'select' from ${shown}${all.length > 6 ? `, ... (${all.length} in all)` : ""} turns it on, and none of those is on`;
}

/** For an option without a prompt: the default kconfig used, and why it is n. */
function defaultExplanation(
  defs: SymbolDefinition[],
  env: SymbolEnv,
): { text: string; blockedBy?: string[] } {
  for (const def of defs) {
    const chosen = def.defaults.find((d) => !d.condition || evaluate(d.condition, env) !== 0);
    if (!chosen) continue;
    const term = firstFalseTerm(chosen.value, env);
    if (!term) return { text: `its default is ${renderExpr(chosen.value)}; ` };
    return {
      text: `its default ${renderExpr(chosen.value)} is n because of ${describeTerm(term, env)}; and `,
      blockedBy: symbolsOf(term, env),
    };
  }
  return { text: "no default applies; " };
}

export function explainDrop(
  request: Request,
  tree: KconfigTree,
  finalConfig: Map<string, string>,
  srcarch: string,
): Drop {
  const env = envFor(tree, finalConfig);
  const actual = finalConfig.get(request.symbol) ?? "n";
  const base = { symbol: request.symbol, requested: request.value, actual, from: request.from };
  const defs = tree.definitions.get(request.symbol);
  if (!defs?.length) {
    return {
      ...base,
      absent: true,
      reason: `no Kconfig file of this kernel defines it for ${srcarch} (renamed, removed, or another architecture's option)`,
    };
  }
  const drop = (reason: string, blockedBy?: string[]): Drop => ({
    ...base,
    absent: false,
    reason,
    ...(blockedBy?.length ? { blockedBy } : {}),
  });

  // Requested off, but on: something forces it.
  if (request.value === "n") {
    const forcing = selectorsOn(tree, request.symbol, env);
    if (forcing.length) return drop(`selected by ${forcing.join(", ")} (on)`, forcing);
    const def = defs[0]!;
    if (!def.prompt) return drop("it has no prompt, so its default applies and cannot be turned off");
    if (def.prompt.condition && evaluate(def.prompt.condition, env) === 0) {
      return drop(`its prompt is hidden unless ${renderExpr(def.prompt.condition)}, so its default applies`);
    }
    return drop(`stayed ${actual}; no forcing select found`);
  }

  // Dependencies: report the first false term of the first definition that fails.
  const holding = defs.filter((d) => conditionsHold(d, env) !== 0);
  if (!holding.length) {
    const def = defs[0]!;
    for (const condition of def.conditions) {
      const term = firstFalseTerm(condition.expr, env);
      if (term) {
        const how = condition.origin.startsWith("if ") ? `inside ${condition.origin}` : condition.origin;
        return drop(`unmet dependency ${describeTerm(term, env)}, from ${how}`, symbolsOf(term, env));
      }
    }
    return drop("its dependencies are not met");
  }

  // In a choice: another member won.
  const def = holding[0]!;
  if (def.choice) {
    const winner = (tree.choices.get(def.choice) ?? []).find((m) => finalConfig.get(m) === "y");
    if (winner && winner !== request.symbol)
      return drop(`${winner} was chosen in the same choice (${def.choice})`);
  }

  // Dependencies hold: the option is only reachable through its prompt or a select.
  const prompts = holding.filter((d) => d.prompt);
  if (!prompts.length) {
    const fallback = defaultExplanation(holding, env);
    return drop(
      `it has no prompt; ${fallback.text}${selectorList(tree, request.symbol)}`,
      fallback.blockedBy,
    );
  }
  const visible = prompts.filter((d) => !d.prompt!.condition || evaluate(d.prompt!.condition, env) !== 0);
  if (!visible.length) {
    const cond = prompts[0]!.prompt!.condition!;
    return drop(
      `its prompt is hidden unless ${describeTerm(cond, env)}; ${selectorList(tree, request.symbol)}`,
      symbolsOf(cond, env),
    );
  }
  if (def.type === "int" || def.type === "hex" || def.type === "string") {
    return drop(`set to ${actual} instead (out of range or not accepted for this type)`);
  }
  return drop(`stayed ${actual}; no unmet dependency found (tristate limits or a default overrode it)`);
}

/** Explains every drop; cheap to call with an empty list. */
export function explainDrops(
  drops: Request[],
  tree: KconfigTree,
  finalConfigText: string,
  srcarch: string,
): Drop[] {
  const finalConfig = configValues(finalConfigText);
  return drops.map((d) => explainDrop(d, tree, finalConfig, srcarch));
}
