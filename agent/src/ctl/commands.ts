// Every ctl command by name. An RPC name (CreateContainer, create-container, check, ...) is a
// command too: it calls that method. Adding a command is one file and one line in `named`.
import { unknownCommand } from "../cli/index.js";
import type { CtlCommand } from "./command.js";
import { findMethod, kebab, methods } from "./methods.js";
import { execCommand, runCommand } from "./process-commands.js";
import { callRpc } from "./rpc-command.js";
import { bridgeCommand, consoleCommand } from "./standalone-commands.js";

const listCommand: CtlCommand = {
  name: "list",
  summary: "list every RPC of grpc.AgentService and grpc.Health",
  help: "Usage: kata-agent-ctl list\n\nLists every RPC the ctl can call, as Service.Method.\n",
  async run(args, session) {
    if (args.includes("--help") || args.includes("-h")) session.io.out(this.help);
    else session.io.out(`${methods.map((m) => `${m.service.typeName}.${m.desc.name}`).join("\n")}\n`);
    return 0;
  },
};

const helpCommand: CtlCommand = {
  name: "help",
  summary: "show the help of a command or RPC",
  help: "Usage: kata-agent-ctl help [COMMAND|RPC]\n",
  async run(args, session) {
    const [name] = args;
    if (name === "--help" || name === "-h") {
      session.io.out(this.help);
      return 0;
    }
    if (name === undefined) {
      session.io.out(usage());
      return 0;
    }
    return commandFor(name).run(["--help"], session);
  },
};

const named: CtlCommand[] = [
  runCommand,
  execCommand,
  listCommand,
  helpCommand,
  consoleCommand,
  bridgeCommand,
];

/** The command a word names: a ctl command, else an RPC; a usage error with a suggestion if neither. */
export function commandFor(word: string): CtlCommand {
  const command = named.find((c) => c.name === word);
  if (command) return command;
  const method = findMethod(word);
  if (method) {
    return {
      name: method.desc.name,
      summary: `call ${method.service.typeName}.${method.desc.name}`,
      help: "",
      run: (args, session) => callRpc(method, args, session),
    };
  }
  const err = unknownCommand(word, completions(), "RPC");
  err.message += "; 'kata-agent-ctl list' shows every RPC, 'kata-agent-ctl --help' the commands";
  throw err;
}

/** Every word that names a command: ctl commands, and RPCs as named and in kebab case. */
export function completions(): string[] {
  return [...named.map((c) => c.name), ...methods.flatMap((m) => [m.desc.name, kebab(m.desc.name)])];
}

export function usage(): string {
  const width = Math.max(...named.map((c) => c.name.length)) + 2;
  return `Usage: kata-agent-ctl [OPTIONS] <RPC> [REQUEST] [--FIELD VALUE ...]
       kata-agent-ctl [OPTIONS] <COMMAND> [ARGS ...]
       kata-agent-ctl [OPTIONS] -c LINE [-c LINE ...] | -f SCRIPT | -i

Talks to a Kata agent over ttrpc: calls any RPC of grpc.AgentService and grpc.Health (JSON in,
JSON out), runs containers and processes from a short command line, and runs several commands
over one connection (-c, a script, or an interactive session with history).

  RPC       any method: CreateContainer (or create-container), Check, Version, ... ('list')
  REQUEST   the request as proto3 JSON: inline, @FILE, or - for stdin
  --FIELD   a scalar field of the request, e.g. --container-id c1 --signal 9
            (bytes fields take text: WriteStdin --data 'hello\\n')

Commands:
${named.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join("\n")}

Options:
  --addr ADDR              agent address (default $KATA_AGENT_ADDR): vsock://CID:PORT,
                           hvsock://VMM-SOCKET:PORT, unix://PATH, unix://@NAME, tcp://HOST:PORT
  --timeout DURATION       deadline sent with each call, e.g. 30s, 500ms; 0 = none (default 30s)
  --connect-timeout DUR    keep retrying the connection this long (default 5s)
  -c, --command LINE       a command to run, as it would be typed (repeatable; in order)
  -f, --file SCRIPT        run the commands in SCRIPT, one a line ('#' comments; - for stdin)
  -i, --interactive        read commands at a prompt, with history and completion
  --repeat N               run the command(s) N times over the connection; timings on stderr
  --keep-going             in -c lines and scripts, go on after a failed command
  -q, --quiet              print no replies (errors still go to stderr)
  --json | --text | --raw  replies as JSON; ReadStdout/ReadStderr data as text or raw bytes
                           (default: JSON, but that data as text when stdout is a terminal)
  -V, --version            print the version
  -h, --help               this help; '<COMMAND> --help' for a command or RPC

Exit status: 0 when every command succeeded; 1 when a call failed (the status code's name and
message are printed); 2 for a usage error; run and exec exit with the process's status.
`;
}
