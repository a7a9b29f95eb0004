// Parsers for configuration values. Each takes what a source gave (text from the kernel command
// line or the environment, a TOML value from the config file) and returns a typed value or
// throws a ValueError saying what was expected.
import { type Level, parseLevel } from "../log.js";
import { type Address, parseAddress, type Scheme } from "../transport/address.js";

export type RawValue =
  | string
  | number
  | boolean
  | bigint
  | Date
  | readonly unknown[]
  | { readonly [k: string]: unknown };

export class ValueError extends Error {
  override readonly name = "ValueError";
}

export function text(raw: RawValue): string {
  if (typeof raw === "string") return raw;
  if (typeof raw === "number" || typeof raw === "bigint" || typeof raw === "boolean") return String(raw);
  throw new ValueError("expected a string");
}

/** true/false, yes/no, on/off, or an integer (non-zero is true) as upstream accepts; a bare flag is true. */
export function bool(raw: RawValue): boolean {
  if (typeof raw === "boolean") return raw;
  if (typeof raw === "number" || typeof raw === "bigint") return raw !== 0 && raw !== 0n;
  const t = text(raw).trim().toLowerCase();
  if (["true", "yes", "on", "y"].includes(t)) return true;
  if (["false", "no", "off", "n"].includes(t)) return false;
  if (/^-?\d+$/.test(t)) return Number(t) !== 0;
  throw new ValueError("expected true or false");
}

export function uint(raw: RawValue): number {
  const t = typeof raw === "string" ? raw.trim() : raw;
  const n =
    typeof t === "string" && /^\d+$/.test(t)
      ? Number(t)
      : typeof t === "number" || typeof t === "bigint"
        ? Number(t)
        : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw new ValueError("expected a whole number >= 0");
  return n;
}

/**
 * A duration in seconds, returned in milliseconds. TOML files may also use upstream's serde form
 * `{ secs = 3, nanos = 0 }`.
 */
export function seconds(raw: RawValue): number {
  if (typeof raw === "object" && raw !== null && !Array.isArray(raw) && !(raw instanceof Date)) {
    const table = raw as { secs?: unknown; nanos?: unknown };
    const secs = Number(table.secs ?? 0);
    const nanos = Number(table.nanos ?? 0);
    if (!Number.isFinite(secs) || !Number.isFinite(nanos) || secs < 0 || nanos < 0) {
      throw new ValueError("expected { secs = N, nanos = M } with non-negative numbers");
    }
    return secs * 1000 + nanos / 1e6;
  }
  const n = typeof raw === "string" ? Number(raw.trim()) : typeof raw === "number" ? raw : Number.NaN;
  if (!Number.isFinite(n) || n < 0 || (typeof raw === "string" && raw.trim() === "")) {
    throw new ValueError("expected a number of seconds");
  }
  return n * 1000;
}

export function level(raw: RawValue): Level {
  const parsed = parseLevel(text(raw));
  if (!parsed) throw new ValueError("expected one of trace, debug, info, warn, error, critical");
  return parsed;
}

export function address(...schemes: Scheme[]) {
  return (raw: RawValue): Address => {
    try {
      return parseAddress(text(raw), schemes);
    } catch (err) {
      throw new ValueError((err as Error).message);
    }
  };
}

/** An address, or undefined for an empty value (the listener is off). */
export function optionalAddress(...schemes: Scheme[]) {
  const parse = address(...schemes);
  return (raw: RawValue): Address | undefined => (text(raw).trim() === "" ? undefined : parse(raw));
}

export function oneOf<const T extends string>(...choices: T[]) {
  return (raw: RawValue): T => {
    const t = text(raw).trim();
    if (!(choices as string[]).includes(t)) throw new ValueError(`expected one of ${choices.join(", ")}`);
    return t as T;
  };
}

/** One address or several, comma-separated (the agent listens on each). */
export function addressList(...schemes: Scheme[]) {
  const one = address(...schemes);
  return (raw: RawValue): Address[] => {
    const parts = text(raw)
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean);
    if (!parts.length) throw new ValueError("expected at least one address");
    return parts.map((p) => one(p));
  };
}

/** Like addressList, but an empty value means none. */
export function optionalAddressList(...schemes: Scheme[]) {
  const list = addressList(...schemes);
  return (raw: RawValue): Address[] => (text(raw).trim() === "" ? [] : list(raw));
}
