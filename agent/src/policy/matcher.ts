// Field matchers: the conditions of a rule. Each compiles once, when the policy is loaded, into a
// function that says whether a value matches and, either way, why in words that name the field
// and its value. Denial messages are built from these, so the reason shown is the reason checked.
import { PolicyError } from "./errors.js";
import { isObject, type Json, jsonEqual, numeric, resolve, show, showPath } from "./json.js";
import { compileRegex } from "./regex.js";
import { anyType, elementType, resolveType, typeName, type ValueType } from "./schema.js";

export interface Outcome {
  ok: boolean;
  /** When ok, what held ("process.Args[0] equals \"sh\""); otherwise why not. */
  detail: string;
}

/** Matches the value at `path` (segments, for messages) of the input. */
export type Check = (value: Json | undefined, path: readonly string[]) => Outcome;

const ok = (detail: string): Outcome => ({ ok: true, detail });
const no = (detail: string): Outcome => ({ ok: false, detail });

type Compiler = (arg: Json, where: string, type: ValueType) => Check;

const MAX_REGEX_LENGTH = 1000;

const compilers: Record<string, Compiler> = {
  equals: (arg) => (v, path) =>
    jsonEqual(v, arg)
      ? ok(`${showPath(path)} equals ${show(arg)}`)
      : no(`${showPath(path)} is ${show(v)}, not ${show(arg)}`),

  in: (arg, where) => {
    if (!Array.isArray(arg)) throw new PolicyError(`${where}: "in" takes a list of values`);
    return (v, path) =>
      arg.some((candidate) => jsonEqual(v, candidate))
        ? ok(`${showPath(path)} is ${show(v)}, one of ${show(arg)}`)
        : no(`${showPath(path)} is ${show(v)}, which is not one of ${show(arg)}`);
  },

  prefix: stringTest("prefix", "starts with", (s, arg) => s.startsWith(arg)),
  suffix: stringTest("suffix", "ends with", (s, arg) => s.endsWith(arg)),
  contains: stringTest("contains", "contains", (s, arg) => s.includes(arg)),

  regex: (arg, where, type) => {
    requireScalar("regex", where, type);
    if (typeof arg !== "string") throw new PolicyError(`${where}: "regex" takes a string`);
    if (arg.length > MAX_REGEX_LENGTH)
      throw new PolicyError(`${where}: regex longer than ${MAX_REGEX_LENGTH} characters`);
    let matches: (value: string) => boolean;
    try {
      // The whole value must match, as in Rego's regex.match with ^...$.
      matches = compileRegex(arg);
    } catch (err) {
      throw new PolicyError(
        `${where}: invalid regex ${JSON.stringify(arg)}: ${(err as Error).message} (RE2 syntax, matched in linear time: no backreferences or lookaround)`,
      );
    }
    return (v, path) =>
      typeof v === "string" && matches(v)
        ? ok(`${showPath(path)} ${show(v)} matches /${arg}/`)
        : no(`${showPath(path)} is ${show(v)}, which does not match /${arg}/`);
  },

  exists: (arg, where) => {
    if (typeof arg !== "boolean") throw new PolicyError(`${where}: "exists" takes true or false`);
    return (v, path) => {
      const present = v !== undefined && v !== null;
      const text = `${showPath(path)} is ${present ? "present" : "absent"}`;
      return present === arg ? ok(text) : no(text);
    };
  },

  min: bound("min", (n, limit) => n >= limit, "at least"),
  max: bound("max", (n, limit) => n <= limit, "at most"),

  length: (arg, where) => {
    const inner = compileMatcher(arg, `${where}.length`, { kind: "scalar", name: "length" });
    return (v, path) => {
      const size = Array.isArray(v)
        ? v.length
        : typeof v === "string"
          ? v.length
          : isObject(v)
            ? Object.keys(v).length
            : undefined;
      if (size === undefined) return no(`${showPath(path)} is ${show(v)}, which has no length`);
      return inner(size, [...path, "length"]);
    };
  },

  each: (arg, where, type) => {
    const inner = compileMatcher(arg, `${where}.each`, elementOf("each", where, type));
    return (v, path) => {
      const items = elements(v, path);
      if (!Array.isArray(items)) return items;
      for (const [key, item] of items) {
        const outcome = inner(item, [...path, key]);
        if (!outcome.ok) return outcome;
      }
      return ok(`every element of ${showPath(path)} (${items.length}) matches`);
    };
  },

  some: (arg, where, type) => {
    const inner = compileMatcher(arg, `${where}.some`, elementOf("some", where, type));
    return (v, path) => {
      const items = elements(v, path);
      if (!Array.isArray(items)) return items;
      let first: Outcome | undefined;
      for (const [key, item] of items) {
        const outcome = inner(item, [...path, key]);
        if (outcome.ok) return outcome;
        first ??= outcome;
      }
      return no(
        items.length === 0
          ? `${showPath(path)} is empty`
          : `no element of ${showPath(path)} matches (first: ${first?.detail})`,
      );
    };
  },

  not: (arg, where, type) => {
    const inner = compileMatcher(arg, `${where}.not`, type);
    return (v, path) => {
      const outcome = inner(v, path);
      return { ok: !outcome.ok, detail: outcome.detail };
    };
  },

  any_of: (arg, where, type) => {
    if (!Array.isArray(arg) || arg.length === 0) {
      throw new PolicyError(`${where}: "any_of" takes a non-empty list of matchers`);
    }
    const inner = arg.map((m, i) => compileMatcher(m, `${where}.any_of[${i}]`, type));
    return (v, path) => {
      const failures: string[] = [];
      for (const check of inner) {
        const outcome = check(v, path);
        if (outcome.ok) return outcome;
        failures.push(outcome.detail);
      }
      return no(failures.join(", and "));
    };
  },

  fields: (arg, where, type) => compileFields(arg, `${where}.fields`, type),
};

export const MATCHERS = Object.keys(compilers);

/** A matcher object: every key it has must hold. */
export function compileMatcher(spec: Json, where: string, type: ValueType): Check {
  if (!isObject(spec)) {
    throw new PolicyError(`${where}: a matcher is an object such as {"equals": ...}, not ${show(spec)}`);
  }
  const checks = Object.entries(spec).map(([key, arg]) => {
    const compiler = Object.hasOwn(compilers, key) ? compilers[key] : undefined;
    if (!compiler) {
      throw new PolicyError(`${where}: unknown matcher "${key}"; the matchers are ${MATCHERS.join(", ")}`);
    }
    return compiler(arg, where, type);
  });
  if (checks.length === 0) throw new PolicyError(`${where}: empty matcher`);
  return all(checks);
}

/** {"path.to.field": matcher, ...} relative to the value; every entry must hold. */
export function compileFields(spec: Json, where: string, type: ValueType): Check {
  if (!isObject(spec) || Object.keys(spec).length === 0) {
    throw new PolicyError(
      `${where}: expected an object of field paths to matchers, such as {"process.Args": {...}}`,
    );
  }
  const checks = Object.entries(spec).map(([path, matcher]): Check => {
    const segments = path === "" ? [] : path.split(".");
    if (segments.some((s) => s === "")) throw new PolicyError(`${where}: malformed field path "${path}"`);
    const fieldType = resolveType(type, segments);
    if ("error" in fieldType) throw new PolicyError(`${where}: "${path}": ${fieldType.error}`);
    const check = compileMatcher(matcher, `${where}."${path}"`, fieldType);
    return (v, base) => check(resolve(v, segments), [...base, ...segments]);
  });
  return all(checks);
}

function all(checks: Check[]): Check {
  if (checks.length === 1) return checks[0] as Check;
  return (v, path) => {
    const held: string[] = [];
    for (const check of checks) {
      const outcome = check(v, path);
      if (!outcome.ok) return outcome;
      held.push(outcome.detail);
    }
    return ok(held.join(" and "));
  };
}

function stringTest(key: string, verb: string, test: (s: string, arg: string) => boolean): Compiler {
  return (arg, where, type) => {
    requireScalar(key, where, type);
    if (typeof arg !== "string") throw new PolicyError(`${where}: "${key}" takes a string`);
    return (v, path) =>
      typeof v === "string" && test(v, arg)
        ? ok(`${showPath(path)} ${show(v)} ${verb} ${show(arg)}`)
        : no(`${showPath(path)} is ${show(v)}, which does not ${verb.replace(/s( |$)/, "$1")} ${show(arg)}`);
  };
}

function bound(key: string, test: (n: number, limit: number) => boolean, words: string): Compiler {
  return (arg, where, type) => {
    requireScalar(key, where, type);
    if (typeof arg !== "number") throw new PolicyError(`${where}: "${key}" takes a number`);
    return (v, path) => {
      const n = numeric(v);
      if (n === undefined) return no(`${showPath(path)} is ${show(v)}, not a number`);
      return test(n, arg)
        ? ok(`${showPath(path)} ${show(v)} is ${words} ${arg}`)
        : no(`${showPath(path)} is ${show(v)}, not ${words} ${arg}`);
    };
  };
}

function requireScalar(key: string, where: string, type: ValueType): void {
  if (type.kind === "scalar" || type.kind === "any") return;
  const hint =
    type.kind === "list" ? `; use {"some": {"${key}": ...}} or {"each": ...} for its elements` : "";
  throw new PolicyError(`${where}: "${key}" compares a single value, but this is a ${typeName(type)}${hint}`);
}

function elementOf(key: string, where: string, type: ValueType): ValueType {
  const element = elementType(type);
  if (!element)
    throw new PolicyError(`${where}: "${key}" needs a list or map, but this is a ${typeName(type)}`);
  return element ?? anyType;
}

/** [key, element] pairs of a list or map value, or the outcome for a value that has none. */
function elements(v: Json | undefined, path: readonly string[]): [string, Json][] | Outcome {
  if (Array.isArray(v)) return v.map((item, i) => [String(i), item]);
  if (isObject(v)) return Object.entries(v);
  return no(`${showPath(path)} is ${show(v)}, not a list`);
}
