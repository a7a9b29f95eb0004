// `kata-agent-ctl -i`: commands read at a prompt over one connection, with line editing, history
// kept across sessions ($KATA_AGENT_CTL_HISTORY, else ~/.local/state/kata-agent-ctl/history), and
// completion of command, RPC and flag names. A failed command prints its error and the session
// goes on; `exit`, `quit` or ^D ends it.
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { formatAddress } from "../client/index.js";
import { completions } from "./commands.js";
import { reportError } from "./io.js";
import { findMethod } from "./methods.js";
import { flagFields, flagName } from "./request.js";
import type { Session } from "./session.js";
import { splitWords } from "./words.js";

const HISTORY_SIZE = 1000;

export function historyFile(env = process.env): string {
  if (env.KATA_AGENT_CTL_HISTORY) return env.KATA_AGENT_CTL_HISTORY;
  const state = env.XDG_STATE_HOME || path.join(env.HOME || homedir(), ".local", "state");
  return path.join(state, "kata-agent-ctl", "history");
}

function loadHistory(file: string): string[] {
  try {
    // readline keeps the newest entry first.
    return readFileSync(file, "utf8").split("\n").filter(Boolean).slice(-HISTORY_SIZE).reverse();
  } catch {
    return [];
  }
}

function remember(file: string, line: string): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    appendFileSync(file, `${line}\n`);
  } catch {
    // History is a convenience: a read-only home must not stop the session.
  }
}

/** Completes the first word from the commands and RPCs, later ones from that RPC's flags. */
function complete(line: string): [string[], string] {
  const words = line.split(/\s+/);
  const current = words.at(-1) ?? "";
  const candidates =
    words.length <= 1
      ? completions()
      : (() => {
          const method = findMethod(words[0]!);
          if (!method) return [];
          return [
            ...flagFields(method.desc.input).map((f) => `--${flagName(f)}`),
            "--timeout",
            "--json",
            "--text",
            "--raw",
          ];
        })();
  return [candidates.filter((c) => c.startsWith(current)), current];
}

export async function interactive(
  session: Session,
  run: (words: string[]) => Promise<number>,
): Promise<number> {
  const file = historyFile();
  const terminal = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const address = session.settings.address;
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal,
    history: loadHistory(file),
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    completer: complete,
    prompt: `${address ? formatAddress(address) : "kata-agent-ctl"}> `,
  });
  if (terminal) {
    session.io.err(
      "kata-agent-ctl: commands and RPCs as on the command line; 'help', Tab completes, ^D or 'exit' leaves\n",
    );
  }
  rl.prompt();
  for await (const line of rl) {
    const trimmed = line.trim();
    if (trimmed === "exit" || trimmed === "quit") break;
    if (trimmed && !trimmed.startsWith("#")) {
      remember(file, trimmed);
      // Errors are printed by `run`; an interactive session goes on after them.
      await run(splitWordsOrReport(trimmed, session));
    }
    rl.prompt();
  }
  rl.close();
  return 0;
}

function splitWordsOrReport(line: string, session: Session): string[] {
  try {
    return splitWords(line);
  } catch (err) {
    reportError(session.io, (err as Error).message);
    return [];
  }
}
