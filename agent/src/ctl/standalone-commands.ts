// Commands that run alone rather than over the session's connection: the debug console takes
// over the terminal, the bridge serves until it is stopped.

import { parseArgs } from "node:util";
import { flagsOf, parseArgsError, UsageError } from "../cli/index.js";
import { type Address, AddressError, CLIENT_SCHEMES, parseAddress } from "../client/index.js";
import { runBridge } from "./bridge.js";
import type { CtlCommand } from "./command.js";
import { runConsole } from "./console.js";
import { reportError } from "./io.js";

export const consoleCommand: CtlCommand = {
  name: "console",
  summary: "open the agent's debug console (agent.debug_console) on this terminal",
  standalone: true,
  help: `Usage: kata-agent-ctl console ADDR

Opens the agent's debug console (agent.debug_console) on this terminal: ADDR is the
console's port, e.g. vsock://CID:1026, hvsock://VMM-SOCKET:1026, unix://PATH, tcp://HOST:PORT
(default: --addr). The terminal is in raw mode (^C goes to the guest); exit the shell to leave.
With a script on stdin instead of a terminal, its end is sent as ^D.
`,
  async run(args, session) {
    if (args.includes("--help") || args.includes("-h")) {
      session.io.out(this.help);
      return 0;
    }
    if (args.length > 1) throw new UsageError(`console takes one address, not '${args.join(" ")}'`);
    const given = args[0];
    const address = given !== undefined ? parseClientAddress(given) : session.settings.address;
    if (!address) throw new UsageError("console needs the console's address, e.g. console vsock://3:1026");
    return runConsole(address, session.settings.connectTimeoutMs, {
      stdin: process.stdin,
      stdout: process.stdout,
      err: (text) => session.io.err(text),
    });
  },
};

const BRIDGE_OPTIONS = {
  listen: { type: "string" },
  connect: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export const bridgeCommand: CtlCommand = {
  name: "bridge",
  summary: "relay every connection accepted on one address to another",
  standalone: true,
  help: `Usage: kata-agent-ctl bridge --listen ADDR --connect ADDR

Relays every connection accepted on --listen to --connect, byte for byte (e.g. a
virtio-serial port serial://agent.vsock.0 to the agent's vsock://1:1024). Runs until stopped.
`,
  async run(args, session) {
    let values: { listen?: string; connect?: string; help?: boolean };
    try {
      values = parseArgs({ args, options: BRIDGE_OPTIONS, strict: true }).values;
    } catch (err) {
      throw parseArgsError(err, flagsOf(BRIDGE_OPTIONS));
    }
    if (values.help) {
      session.io.out(this.help);
      return 0;
    }
    if (!values.listen || !values.connect)
      throw new UsageError("bridge needs --listen ADDR and --connect ADDR");
    const from = parseAddress(values.listen);
    const to = parseAddress(values.connect);
    try {
      await runBridge(from, to, (line) => session.io.err(`${line}\n`));
      return 0;
    } catch (err) {
      reportError(session.io, `bridge: ${(err as Error).message}`);
      return 1;
    }
  },
};

export function parseClientAddress(text: string): Address {
  try {
    return parseAddress(text, CLIENT_SCHEMES);
  } catch (err) {
    if (err instanceof AddressError) throw new UsageError(err.message);
    throw err;
  }
}
