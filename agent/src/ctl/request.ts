// Builds a request message from JSON (inline, @file or - for stdin) plus --field flags for the
// request's scalar fields, e.g. `SignalProcess --container-id c1 --signal 9`.
import { readFileSync } from "node:fs";
import type { DescField, DescMessage, JsonObject, JsonValue, Message } from "@bufbuild/protobuf";
import { fromJson, ScalarType } from "@bufbuild/protobuf";
import { UsageError } from "../cli/index.js";
import { kebab } from "./methods.js";

/** Fields that can be given as flags: scalars, enums and lists of them. */
export function flagFields(schema: DescMessage): DescField[] {
  return schema.fields.filter(
    (f) =>
      f.fieldKind === "scalar" ||
      f.fieldKind === "enum" ||
      (f.fieldKind === "list" && (f.listKind === "scalar" || f.listKind === "enum")),
  );
}

export function flagName(field: DescField): string {
  return kebab(field.name).replace(/_/g, "-");
}

export function readJsonArgument(arg: string, readStdin: () => string): JsonValue {
  const text = arg === "-" ? readStdin() : arg.startsWith("@") ? readFileSync(arg.slice(1), "utf8") : arg;
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new UsageError(`request is not valid JSON (${(err as Error).message}): ${text.slice(0, 80)}`);
  }
}

/** Merges --field values over the JSON request and parses it as proto3 JSON. */
export function buildRequest(
  schema: DescMessage,
  json: JsonValue | undefined,
  flags: Map<string, string[]>,
): Message {
  const base: JsonObject =
    json === undefined
      ? {}
      : typeof json === "object" && json !== null && !Array.isArray(json)
        ? { ...json }
        : fail();
  const fields = new Map(
    flagFields(schema).flatMap((f) => [[flagName(f), f] as const, [f.name, f] as const]),
  );
  for (const [flag, values] of flags) {
    const field = fields.get(flag);
    if (!field) {
      const known = flagFields(schema).map((f) => `--${flagName(f)}`);
      throw new UsageError(
        `${schema.name} has no field --${flag}` +
          (known.length ? ` (fields: ${known.join(", ")})` : " (it has no flag fields)"),
      );
    }
    const converted = values.map((value) => flagValue(field, value));
    base[field.jsonName] = field.fieldKind === "list" ? converted : (converted.at(-1) ?? null);
  }
  try {
    return fromJson(schema, base);
  } catch (err) {
    throw new UsageError(`invalid ${schema.typeName}: ${(err as Error).message}`);
  }

  function fail(): never {
    throw new UsageError("the request must be a JSON object");
  }
}

function flagValue(field: DescField, value: string): JsonValue {
  const scalar =
    field.fieldKind === "scalar" ? field.scalar : field.fieldKind === "list" ? field.scalar : undefined;
  if (scalar === undefined) return value; // enum: by name or number, as proto3 JSON allows
  switch (scalar) {
    case ScalarType.BOOL:
      if (value === "true" || value === "false") return value === "true";
      throw new UsageError(`--${flagName(field)} takes true or false`);
    case ScalarType.BYTES:
      // Text on the command line, the base64 proto3 JSON wants for bytes.
      return Buffer.from(value.replace(/\\n/g, "\n"), "utf8").toString("base64");
    case ScalarType.STRING:
      return value;
    default:
      if (!/^-?\d+(\.\d+)?$/.test(value))
        throw new UsageError(`--${flagName(field)} takes a number, not '${value}'`);
      return value;
  }
}
