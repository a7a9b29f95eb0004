// The shape of each RPC's policy input, from the generated descriptors, so that a policy naming a
// field that does not exist ("process.args" for "process.Args") is refused when it is loaded
// instead of silently never matching.
import type { DescField, DescMessage } from "@bufbuild/protobuf";

export type ValueType =
  | { kind: "message"; desc: DescMessage }
  | { kind: "object"; name: string; fields: Readonly<Record<string, ValueType>> }
  | { kind: "list"; element: ValueType }
  | { kind: "map"; value: ValueType }
  | { kind: "scalar"; name: string }
  | { kind: "any" };

export const anyType: ValueType = { kind: "any" };

export function messageType(desc: DescMessage): ValueType {
  // Well-known types (Struct, Any, Timestamp...) have their own JSON forms; do not check inside them.
  return desc.typeName.startsWith("google.protobuf.") ? anyType : { kind: "message", desc };
}

function fieldType(field: DescField): ValueType {
  switch (field.fieldKind) {
    case "scalar":
      return { kind: "scalar", name: scalarName(field.scalar) };
    case "enum":
      return { kind: "scalar", name: `enum ${field.enum.typeName}` };
    case "message":
      return messageType(field.message);
    case "list":
      return {
        kind: "list",
        element:
          field.listKind === "message"
            ? messageType(field.message)
            : {
                kind: "scalar",
                name: field.listKind === "enum" ? `enum ${field.enum.typeName}` : scalarName(field.scalar),
              },
      };
    case "map":
      return {
        kind: "map",
        value:
          field.mapKind === "message"
            ? messageType(field.message)
            : {
                kind: "scalar",
                name: field.mapKind === "enum" ? `enum ${field.enum.typeName}` : scalarName(field.scalar),
              },
      };
  }
}

function scalarName(scalar: number): string {
  // ScalarType numbers (descriptor.proto): 64-bit integers are strings in JSON.
  const names: Record<number, string> = {
    1: "double",
    2: "float",
    3: "int64 (a string in JSON)",
    4: "uint64 (a string in JSON)",
    5: "int32",
    6: "fixed64 (a string in JSON)",
    7: "fixed32",
    8: "bool",
    9: "string",
    12: "bytes (base64 in JSON)",
    13: "uint32",
    15: "sfixed32",
    16: "sfixed64 (a string in JSON)",
    17: "sint32",
    18: "sint64 (a string in JSON)",
  };
  return names[scalar] ?? "scalar";
}

export function typeName(type: ValueType): string {
  switch (type.kind) {
    case "message":
      return type.desc.typeName;
    case "object":
      return type.name;
    case "list":
      return `list of ${typeName(type.element)}`;
    case "map":
      return `map of ${typeName(type.value)}`;
    case "scalar":
      return type.name;
    case "any":
      return "any value";
  }
}

/** The type at `segments` below `type`, or a message saying why there is none. */
export function resolveType(type: ValueType, segments: readonly string[]): ValueType | { error: string } {
  let current = type;
  for (const [i, segment] of segments.entries()) {
    const here = () => (i === 0 ? "the request" : segments.slice(0, i).join("."));
    switch (current.kind) {
      case "any":
        return anyType;
      case "map":
        current = current.value;
        break;
      case "list":
        if (!/^\d+$/.test(segment)) {
          return {
            error: `${here()} is a list: index it with a number, or match its elements with each/some`,
          };
        }
        current = current.element;
        break;
      case "scalar":
        return { error: `${here()} is a ${current.name} and has no field "${segment}"` };
      case "object": {
        const next = current.fields[segment];
        if (!next) return { error: noField(segment, here(), current.name, Object.keys(current.fields)) };
        current = next;
        break;
      }
      case "message": {
        const field = current.desc.fields.find((f) => f.name === segment);
        if (!field) {
          return {
            error: noField(
              segment,
              here(),
              current.desc.typeName,
              current.desc.fields.map((f) => f.name),
            ),
          };
        }
        current = fieldType(field);
        break;
      }
    }
  }
  return current;
}

function noField(segment: string, where: string, type: string, names: string[]): string {
  const near = names.find((n) => n.toLowerCase() === segment.toLowerCase());
  return (
    `${where} (${type}) has no field "${segment}"` +
    (near ? `; did you mean "${near}"?` : `; its fields are ${names.join(", ")}`)
  );
}

/** What a list or map holds, for each/some; undefined for types that hold no elements. */
export function elementType(type: ValueType): ValueType | undefined {
  if (type.kind === "list") return type.element;
  if (type.kind === "map") return type.value;
  if (type.kind === "any") return anyType;
  return undefined;
}
