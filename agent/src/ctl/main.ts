// kata-agent-ctl: calls any Kata agent RPC from the command line. Requests are JSON (inline,
// @file or - for stdin) and/or --field flags; replies are printed as JSON with proto field names.
import { readFileSync } from "node:fs";
import {
  create,
  type DescMessage,
  fromBinary,
  type JsonObject,
  type JsonValue,
  type Message,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import type { CreateContainerRequest } from "../../gen/agent_pb.js";
import { VersionWithFeaturesSchema } from "../../gen/ext/features_pb.js";
import {
  type Address,
  AddressError,
  AgentError,
  CLIENT_SCHEMES,
  codeName,
  DialError,
  dial,
  parseAddress,
  TtrpcClient,
} from "../client/index.js";
import { runBridge } from "./bridge.js";
import { runConsole } from "./console.js";
import { findMethod, kebab, type Method, methods } from "./methods.js";
import { buildRequest, flagFields, flagName, readJsonArgument, UsageError } from "./request.js";
import { readSpecFile } from "./spec-file.js";

const USAGE = `Usage: kata-agent-ctl [--addr ADDR] [--timeout DURATION] <RPC> [REQUEST] [--field VALUE ...]
       kata-agent-ctl list
       kata-agent-ctl <RPC> --help
       kata-agent-ctl bridge --listen ADDR --connect ADDR
       kata-agent-ctl console ADDR

Calls one Kata agent RPC over ttrpc and prints the reply as JSON.

  RPC       any method of grpc.AgentService or grpc.Health: CreateContainer (or
            create-container), Check, Version, ... ('list' shows them all)
  REQUEST   the request as proto3 JSON: inline, @FILE, or - for stdin
  --FIELD   a scalar field of the request, e.g. --container-id c1 --signal 9
            (bytes fields take text: WriteStdin --data 'hello\\n')
  --spec    CreateContainer only: the OCI spec from a config.json or bundle directory
  console   the agent's debug console (agent.debug_console) on this terminal, in raw mode,
            as 'kata-runtime exec' gives it: ADDR is its port, e.g. vsock://CID:1026

Options:
  --addr ADDR              agent address (default $KATA_AGENT_ADDR): vsock://CID:PORT,
                           hvsock://VMM-SOCKET:PORT, unix://PATH, unix://@NAME, tcp://HOST:PORT
  --timeout DURATION       deadline sent with the call, e.g. 30s, 500ms; 0 = none (default 30s)
  --connect-timeout DUR    keep retrying the connection this long (default 5s)
  --raw                    for ReadStdout/ReadStderr: write the data bytes, not JSON
  -h, --help               this help
`;

interface Options {
  addr?: string;
  timeoutMs: number;
  connectTimeoutMs: number;
  raw: boolean;
  help: boolean;
  positionals: string[];
  fields: Map<string, string[]>;
}

export async function main(argv: string[], io = defaultIo()): Promise<number> {
  let options: Options;
  try {
    options = parseCommandLine(argv);
  } catch (err) {
    io.err(`kata-agent-ctl: ${(err as Error).message}\nRun 'kata-agent-ctl --help' for usage.\n`);
    return 2;
  }
  const [command, requestArg, ...extra] = options.positionals;
  if (!command) {
    io.out(USAGE);
    return options.help ? 0 : 2;
  }
  if (command === "bridge") return bridgeCommand(options, io);
  if (command === "console") return consoleCommand(options, requestArg, extra, io);
  if (command === "list") {
    io.out(`${methods.map((m) => `${m.service.typeName}.${m.desc.name}`).join("\n")}\n`);
    return 0;
  }
  const method = findMethod(command);
  if (!method) {
    io.err(`kata-agent-ctl: unknown RPC '${command}' (run 'kata-agent-ctl list')\n`);
    return 2;
  }
  if (options.help) {
    io.out(methodHelp(method));
    return 0;
  }
  if (extra.length) {
    io.err(`kata-agent-ctl: unexpected argument '${extra[0]}'\n`);
    return 2;
  }
  let request: Message;
  let address: Address;
  try {
    const json = requestArg === undefined ? undefined : readJsonArgument(requestArg, io.stdin);
    const specFile = takeSpecFlag(method, options.fields);
    request = buildRequest(method.desc.input, json, options.fields);
    if (specFile !== undefined) (request as CreateContainerRequest).OCI = readSpecFile(specFile);
    const addr = options.addr ?? process.env.KATA_AGENT_ADDR;
    if (!addr) throw new UsageError("no agent address: pass --addr or set KATA_AGENT_ADDR");
    address = parseAddress(addr, CLIENT_SCHEMES);
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof AddressError)) throw err;
    io.err(`kata-agent-ctl: ${err.message}\n`);
    return 2;
  }

  let client: TtrpcClient | undefined;
  try {
    client = new TtrpcClient(await dial(address, { timeoutMs: options.connectTimeoutMs }));
    const reply = await client.call(
      method.service.typeName,
      method.desc.name,
      toBinary(method.desc.input, request),
      { timeoutMs: options.timeoutMs },
    );
    io.out(render(method, reply, options.raw));
    return 0;
  } catch (err) {
    if (err instanceof DialError) {
      io.err(`kata-agent-ctl: ${err.message}\n`);
      return 1;
    }
    const error = AgentError.from(err);
    io.err(
      `kata-agent-ctl: ${method.desc.name} failed: ${codeName(error.code)} (${error.code}): ${error.message}\n`,
    );
    return 1;
  } finally {
    client?.close();
  }
}

/** The value of --spec, which only CreateContainer takes (its OCI field, from a file). */
function takeSpecFlag(method: Method, fields: Map<string, string[]>): string | undefined {
  const values = fields.get("spec");
  if (values === undefined) return undefined;
  if (method.desc.name !== "CreateContainer") {
    throw new UsageError(`--spec is for CreateContainer, not ${method.desc.name}`);
  }
  fields.delete("spec");
  return values.at(-1);
}

/** `bridge --listen serial://agent.vsock.0 --connect vsock://1:1024`: relays connections. */
async function bridgeCommand(options: Options, io: Io): Promise<number> {
  const listenAt = options.fields.get("listen")?.at(-1);
  const connectTo = options.fields.get("connect")?.at(-1);
  if (options.help || !listenAt || !connectTo) {
    io.out(
      "Usage: kata-agent-ctl bridge --listen ADDR --connect ADDR\n\nRelays every connection accepted on --listen to --connect (e.g. serial://agent.vsock.0 to vsock://1:1024).\n",
    );
    return options.help ? 0 : 2;
  }
  try {
    await runBridge(parseAddress(listenAt), parseAddress(connectTo), (line) => io.err(`${line}\n`));
    return 0;
  } catch (err) {
    io.err(`kata-agent-ctl: bridge: ${(err as Error).message}\n`);
    return 1;
  }
}

/** `console ADDR` (or --addr ADDR): the debug console, relayed to this terminal. */
async function consoleCommand(
  options: Options,
  addrArg: string | undefined,
  extra: string[],
  io: Io,
): Promise<number> {
  const usage =
    "Usage: kata-agent-ctl console ADDR\n\nOpens the agent's debug console (agent.debug_console) on this terminal: ADDR is the\nconsole's port, e.g. vsock://CID:1026, hvsock://VMM-SOCKET:1026, unix://PATH, tcp://HOST:PORT.\nThe terminal is in raw mode (^C goes to the guest); exit the shell to leave.\n";
  const addr = addrArg ?? options.addr;
  if (options.help || !addr || extra.length) {
    (options.help ? io.out : io.err)(usage);
    return options.help ? 0 : 2;
  }
  let address: Address;
  try {
    address = parseAddress(addr, CLIENT_SCHEMES);
  } catch (err) {
    if (!(err instanceof AddressError)) throw err;
    io.err(`kata-agent-ctl: ${err.message}\n`);
    return 2;
  }
  return runConsole(address, options.connectTimeoutMs, {
    stdin: process.stdin,
    stdout: process.stdout,
    err: io.err,
  });
}

function render(method: Method, reply: Uint8Array, raw: boolean): string | Uint8Array {
  if (raw && (method.desc.name === "ReadStdout" || method.desc.name === "ReadStderr")) {
    const { data } = fromBinary(method.desc.output, reply) as Message & { data: Uint8Array };
    return data;
  }
  // Version replies may carry this agent's feature list in an extension field.
  const schema: DescMessage = method.desc.name === "Version" ? VersionWithFeaturesSchema : method.desc.output;
  const json: JsonValue = toJson(schema, fromBinary(schema, reply), {
    useProtoFieldName: true,
    alwaysEmitImplicit: true,
  });
  return `${JSON.stringify(json, null, 2)}\n`;
}

function methodHelp({ service, desc }: Method): string {
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
    `Usage: kata-agent-ctl ${desc.name} [REQUEST] [--FIELD VALUE ...]   (also: ${kebab(desc.name)})`,
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

function parseCommandLine(argv: string[]): Options {
  const options: Options = {
    timeoutMs: 30_000,
    connectTimeoutMs: 5_000,
    raw: false,
    help: false,
    positionals: [],
    fields: new Map(),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? splitOnce(arg) : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === "-h" || flag === "--help") options.help = true;
    else if (flag === "--addr") options.addr = value();
    else if (flag === "--timeout") options.timeoutMs = parseDuration(value(), flag);
    else if (flag === "--connect-timeout") options.connectTimeoutMs = parseDuration(value(), flag);
    else if (flag === "--raw") options.raw = true;
    else if (flag === "-") options.positionals.push(flag);
    else if (flag.startsWith("--")) {
      const name = flag.slice(2);
      options.fields.set(name, [...(options.fields.get(name) ?? []), value()]);
    } else if (flag.startsWith("-") && flag.length > 1 && !/^-\d/.test(flag)) {
      throw new UsageError(`unknown option ${flag}`);
    } else options.positionals.push(arg);
  }
  return options;
}

function splitOnce(arg: string): [string, string] {
  const eq = arg.indexOf("=");
  return [arg.slice(0, eq), arg.slice(eq + 1)];
}

/** "30s", "500ms", "2m", or plain seconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag}: '${text}' is not a duration (e.g. 30s, 500ms)`);
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  return n * (unit === "ms" ? 1 : unit === "s" ? 1000 : unit === "m" ? 60_000 : 3_600_000);
}

interface Io {
  out(text: string | Uint8Array): void;
  err(text: string): void;
  stdin(): string;
}

function defaultIo(): Io {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    stdin: () => readFileSync(0, "utf8"),
  };
}
