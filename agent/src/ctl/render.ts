// How a reply is shown. JSON with proto field names by default (what scripts parse); the data
// of ReadStdout/ReadStderr as text when a person reads it (stdout is a terminal) or --text is
// given; --raw writes those bytes exactly.
import { type DescMessage, fromBinary, type JsonValue, type Message, toJson } from "@bufbuild/protobuf";
import { VersionWithFeaturesSchema } from "../../gen/ext/features_pb.js";
import type { Method } from "./methods.js";

export type OutputMode = "auto" | "json" | "text" | "raw";

const STREAM_READS = new Set(["ReadStdout", "ReadStderr"]);

export function render(
  method: Method,
  reply: Uint8Array,
  mode: OutputMode,
  outIsTTY: boolean,
): string | Uint8Array {
  const reads = STREAM_READS.has(method.desc.name);
  if (reads && (mode === "raw" || mode === "text" || (mode === "auto" && outIsTTY))) {
    const { data } = fromBinary(method.desc.output, reply) as Message & { data: Uint8Array };
    if (mode === "raw") return data;
    // Text for a person: shown as UTF-8, and ending the line the reply leaves open.
    const text = Buffer.from(data).toString("utf8");
    return text === "" || text.endsWith("\n") ? text : `${text}\n`;
  }
  // Version replies may carry this agent's feature list in an extension field.
  const schema: DescMessage = method.desc.name === "Version" ? VersionWithFeaturesSchema : method.desc.output;
  const json: JsonValue = toJson(schema, fromBinary(schema, reply), {
    useProtoFieldName: true,
    alwaysEmitImplicit: true,
  });
  return `${JSON.stringify(json, null, 2)}\n`;
}
