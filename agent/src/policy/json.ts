// The JSON values policies match against, and how they are shown in denial messages.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function isObject(value: unknown): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A value as a denial message shows it: JSON, cut to `max` characters. */
export function show(value: Json | undefined, max = 120): string {
  if (value === undefined) return "absent";
  const text = JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** "process.Args.0" → "process.Args[0]". */
export function showPath(segments: readonly string[]): string {
  let out = "";
  for (const segment of segments) {
    if (/^\d+$/.test(segment)) out += `[${segment}]`;
    else out += out === "" ? segment : `.${segment}`;
  }
  return out === "" ? "(the request)" : out;
}

/** Follows `segments` into `value`: object keys, and decimal indexes into arrays. */
export function resolve(value: Json | undefined, segments: readonly string[]): Json | undefined {
  let current = value;
  for (const segment of segments) {
    if (Array.isArray(current) && /^\d+$/.test(segment)) current = current[Number(segment)];
    else if (isObject(current) && Object.hasOwn(current, segment)) current = current[segment];
    else return undefined;
  }
  return current;
}

/**
 * Deep equality where a number in the policy equals a decimal string in the request: proto3 JSON
 * writes 64-bit integers as strings, and policy authors should not have to know which are.
 */
export function jsonEqual(actual: Json | undefined, expected: Json): boolean {
  if (typeof expected === "number" && typeof actual === "string") {
    return /^-?\d+(\.\d+)?$/.test(actual) && Number(actual) === expected;
  }
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((e, i) => jsonEqual(actual[i], e))
    );
  }
  if (isObject(expected)) {
    if (!isObject(actual)) return false;
    const keys = Object.keys(expected);
    return (
      keys.length === Object.keys(actual).length &&
      keys.every((k) => jsonEqual(actual[k], expected[k] as Json))
    );
  }
  return actual === expected;
}

/** A number from a JSON number or a decimal string (64-bit fields), else undefined. */
export function numeric(value: Json | undefined): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return undefined;
}
