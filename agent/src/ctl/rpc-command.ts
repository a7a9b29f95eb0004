// One RPC: `<Method> [REQUEST] [--FIELD VALUE ...] [--timeout D] [--json|--text|--raw]`, the
// request built from proto3 JSON and flags, the reply rendered for whoever reads it.
import { create, type JsonObject, type Message, toBinary, toJson } from "@bufbuild/protobuf";
import type { CreateContainerRequest } from "../../gen/agent_pb.js";
import { UsageError, unknownFlag } from "../cli/index.js";
import { AgentError, codeName } from "../client/index.js";
import { parseDuration } from "./duration.js";
import { reportError } from "./io.js";
import { kebab, type Method } from "./methods.js";
import { type OutputMode, render } from "./render.js";
import { buildRequest, flagFields, flagName, readJsonArgument } from "./request.js";
import type { Session } from "./session.js";
import { readSpecFile } from "./spec-file.js";

/** Flags every RPC line takes besides its request's fields. */
const CALL_FLAGS = ["--timeout", "--json", "--text", "--raw", "--help", "-h"];

interface CallLine {
  json?: string;
  fields: Map<string, string[]>;
  timeoutMs?: number;
  output?: OutputMode;
  help: boolean;
}

function parseCallLine(method: Method, args: string[]): CallLine {
  const line: CallLine = { fields: new Map(), help: false };
  const known = new Set([
    ...CALL_FLAGS,
    ...flagFields(method.desc.input).flatMap((f) => [`--${flagName(f)}`, `--${f.name}`]),
    ...(method.desc.name === "CreateContainer" ? ["--spec"] : []),
  ]);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      const v = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === "-h" || flag === "--help") line.help = true;
    else if (flag === "--timeout") line.timeoutMs = parseDuration(value(), flag);
    else if (flag === "--json" || flag === "--text" || flag === "--raw")
      line.output = flag.slice(2) as OutputMode;
    else if (flag.startsWith("--")) {
      if (flag === "--spec" && method.desc.name !== "CreateContainer") {
        throw new UsageError(`--spec is for CreateContainer, not ${method.desc.name}`);
      }
      if (!known.has(flag)) {
        const err = unknownFlag(flag, known);
        const fields = flagFields(method.desc.input).map((f) => `--${flagName(f)}`);
        throw new UsageError(
          `${err.message.replace("unknown option", `${method.desc.name} has no field`)}` +
            (fields.length ? `; its fields: ${fields.join(", ")}` : "; it has no flag fields"),
        );
      }
      const name = flag.slice(2);
      line.fields.set(name, [...(line.fields.get(name) ?? []), value()]);
    } else if (flag.startsWith("-") && flag !== "-" && !/^-\d/.test(flag)) {
      throw unknownFlag(flag, known);
    } else if (line.json === undefined) line.json = arg;
    else throw new UsageError(`unexpected argument '${arg}' (the request is given once: JSON, @FILE or -)`);
  }
  return line;
}

/** The value of --spec, which only CreateContainer takes (its OCI field, from a file). */
function takeSpecFlag(fields: Map<string, string[]>): string | undefined {
  const values = fields.get("spec");
  if (values === undefined) return undefined;
  fields.delete("spec");
  return values.at(-1);
}

/** Calls `method` with the request the words describe; prints the reply. */
export async function callRpc(method: Method, args: string[], session: Session): Promise<number> {
  const { io, settings } = session;
  const line = parseCallLine(method, args);
  if (line.help) {
    io.out(methodHelp(method));
    return 0;
  }
  if (line.json === "-" && !settings.stdinFree) {
    throw new UsageError("the request cannot come from stdin here: stdin carries the commands");
  }
  const json = line.json === undefined ? undefined : readJsonArgument(line.json, io.stdin);
  const specFile = takeSpecFlag(line.fields);
  const request: Message = buildRequest(method.desc.input, json, line.fields);
  if (specFile !== undefined) (request as CreateContainerRequest).OCI = readSpecFile(specFile);
  const client = await session.client();
  try {
    const reply = await client.ttrpc.call(
      method.service.typeName,
      method.desc.name,
      toBinary(method.desc.input, request),
      { timeoutMs: line.timeoutMs ?? settings.timeoutMs },
    );
    if (!settings.quiet) io.out(render(method, reply, line.output ?? settings.output, io.outIsTTY));
    return 0;
  } catch (err) {
    const error = AgentError.from(err);
    reportError(io, `${method.desc.name} failed: ${codeName(error.code)} (${error.code}): ${error.message}`);
    return 1;
  }
}

export function methodHelp({ service, desc }: Method): string {
  const example = toJson(desc.input, create(desc.input), {
    useProtoFieldName: true,
    alwaysEmitImplicit: true,
  }) as JsonObject;
  // Unset message fields are left out of proto3 JSON; show them, or OCI could not be found.
  for (const f of desc.input.fields) if (f.fieldKind === "message") example[f.name] ??= {};
  const flags = flagFields(desc.input).map(
    (f) => `  --${flagName(f)}${f.fieldKind === "list" ? " (repeatable)" : ""}`,
  );
  if (desc.name === "CreateContainer") {
    flags.push(
      "  --spec PATH   OCI: a runtime-spec config.json (e.g. from 'runc spec') or a bundle",
      "                directory holding one; a relative root.path is taken from its directory",
    );
  }
  return [
    `Usage: kata-agent-ctl ${desc.name} [REQUEST] [--FIELD VALUE ...] [--timeout D] [--json|--text|--raw]`,
    `       (also: ${kebab(desc.name)})`,
    "",
    `Calls ${service.typeName}.${desc.name}: ${desc.input.typeName} -> ${desc.output.typeName}.`,
    "",
    "Request fields (JSON, proto names):",
    JSON.stringify(example, null, 2),
    "",
    flags.length ? `Flags:\n${flags.join("\n")}` : "This request has no flag fields.",
    "",
  ].join("\n");
}
