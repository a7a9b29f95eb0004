// `run` and `exec`: a process from a short command line instead of Kata's capitalised OCI JSON.
//   run --container-id c1 --rootfs /path [options] -- sh -c 'echo hi'
//     CreateContainer + StartContainer + stdin + ReadStdout/ReadStderr + WaitProcess + RemoveContainer
//   exec --container-id c1 [options] -- ps
//     ExecProcess into a running container, the same relay
// Output is written as it arrives (stdout to stdout, stderr to stderr); the exit code is the
// process's exit status, as a shell's is.
import path from "node:path";
import { parseArgs } from "node:util";
import { flagsOf, parseArgsError, UsageError } from "../cli/index.js";
import {
  type AgentClient,
  execProcess,
  type ProcessOptions,
  runContainer,
  type StdioOptions,
  startDetached,
} from "../client/index.js";
import type { CtlCommand } from "./command.js";
import { parseDuration } from "./duration.js";
import type { Session } from "./session.js";

const PROCESS_OPTIONS = {
  "container-id": { type: "string" },
  env: { type: "string", short: "e", multiple: true },
  cwd: { type: "string", short: "w" },
  cap: { type: "string", multiple: true },
  "cap-drop": { type: "string", multiple: true },
  tty: { type: "boolean", short: "t" },
  stdin: { type: "boolean", short: "i" },
  user: { type: "string", short: "u" },
  timeout: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const RUN_OPTIONS = {
  ...PROCESS_OPTIONS,
  rootfs: { type: "string" },
  hostname: { type: "string" },
  "read-only": { type: "boolean" },
  "sandbox-id": { type: "string" },
  keep: { type: "boolean" },
  detach: { type: "boolean", short: "d" },
} as const;

const EXEC_OPTIONS = { ...PROCESS_OPTIONS, "exec-id": { type: "string" } } as const;

const PROCESS_HELP = `  --container-id ID     the container (required)
  -e, --env NAME=VALUE  environment (repeatable; PATH has a default, TERM=xterm with --tty)
  -w, --cwd DIR         working directory (default /)
  --cap CAP             add a capability to containerd's default set (repeatable; NET_ADMIN
                        or CAP_NET_ADMIN)
  --cap-drop CAP        drop one of the defaults (repeatable; ALL drops every one)
  -u, --user UID[:GID]  run as this user (default 0:0)
  -t, --tty             a terminal: stderr joins stdout; on this terminal, raw mode and
                        window size changes are passed on
  -i, --stdin           send this process's stdin to the container's (else it is closed)
  --timeout DURATION    deadline of each call but WaitProcess (default: the session's)`;

export const runCommand: CtlCommand = {
  name: "run",
  summary: "run a container from a root filesystem and a command line, printing its output",
  help: `Usage: kata-agent-ctl run --container-id ID --rootfs DIR [options] -- COMMAND [ARG ...]

Creates and starts a container whose process is COMMAND, relays its output until it exits,
and removes it: CreateContainer, StartContainer, ReadStdout/ReadStderr, WaitProcess,
RemoveContainer. The spec is containerd's default for a container (capabilities, namespaces,
mounts, masked paths) with what the options change. Exits with the process's exit status.

Options:
  --rootfs DIR          the container's root filesystem, as the agent sees it (required)
${PROCESS_HELP}
  --hostname NAME       the container's hostname
  --read-only           mount the root filesystem read-only
  --sandbox-id ID       send CreateSandbox first (for an agent that has no sandbox yet)
  --keep                leave the container after its process exits
  -d, --detach          start it and return at once (no output relayed; for exec later)
`,
  run: (args, session) => runOrExec("run", args, session),
};

export const execCommand: CtlCommand = {
  name: "exec",
  summary: "run a command in a running container (ExecProcess), printing its output",
  help: `Usage: kata-agent-ctl exec --container-id ID [options] -- COMMAND [ARG ...]

Runs COMMAND in the running container ID (ExecProcess), relays its output until it exits, and
exits with its exit status.

Options:
${PROCESS_HELP}
  --exec-id ID          the process's id (default: exec-<random>)
`,
  run: (args, session) => runOrExec("exec", args, session),
};

async function runOrExec(kind: "run" | "exec", args: string[], session: Session): Promise<number> {
  const options = kind === "run" ? RUN_OPTIONS : EXEC_OPTIONS;
  // Everything after -- is the command, untouched (its own flags included).
  const split = args.indexOf("--");
  const own = split < 0 ? args : args.slice(0, split);
  let parsed: ReturnType<typeof parseArgs<{ options: typeof RUN_OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: own, options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (err) {
    throw parseArgsError(err, flagsOf(options));
  }
  const v = parsed.values;
  if (v.help) {
    session.io.out(kind === "run" ? runCommand.help : execCommand.help);
    return 0;
  }
  const command = split < 0 ? parsed.positionals : [...parsed.positionals, ...args.slice(split + 1)];
  const containerId = v["container-id"];
  if (!containerId) throw new UsageError(`${kind} needs --container-id ID`);
  if (command.length === 0) throw new UsageError(`${kind} needs a command after --, e.g. -- sh -c 'echo hi'`);
  if (kind === "run" && !v.rootfs)
    throw new UsageError("run needs --rootfs DIR (the container's root filesystem)");
  if (v.stdin && !session.settings.stdinFree) {
    throw new UsageError("-i/--stdin cannot be used here: stdin carries the commands");
  }
  const process_: ProcessOptions = {
    args: command,
    ...(v.env ? { env: v.env } : {}),
    ...(v.cwd ? { cwd: v.cwd } : {}),
    ...(v.cap ? { addCapabilities: v.cap } : {}),
    ...(v["cap-drop"] ? { dropCapabilities: v["cap-drop"] } : {}),
    terminal: v.tty === true,
    ...(v.user ? { user: v.user } : {}),
  };
  const timeoutMs =
    v.timeout !== undefined ? parseDuration(v.timeout, "--timeout") : session.settings.timeoutMs;
  const client = await session.client();
  const stdio = stdioFor(session, client, { tty: v.tty === true, stdin: v.stdin === true, timeoutMs });
  try {
    if (kind === "exec") {
      const execId = (v as { "exec-id"?: string })["exec-id"];
      const result = await execProcess(client.agent, {
        ...process_,
        ...stdio.options,
        containerId,
        ...(execId ? { execId } : {}),
      });
      return result.status;
    }
    const sandboxId = v["sandbox-id"];
    if (sandboxId) await client.agent.createSandbox({ sandboxId }, { timeoutMs });
    const spec = {
      ...process_,
      ...stdio.options,
      containerId,
      // A relative path means one on this machine (the agent running here, as in tests).
      rootfs: path.resolve(v.rootfs!),
      ...(v.hostname ? { hostname: v.hostname } : {}),
      readonlyRootfs: v["read-only"] === true,
      keep: v.keep === true,
    };
    if (v.detach) {
      await startDetached(client.agent, spec);
      if (!session.settings.quiet) session.io.out(`${containerId}\n`);
      return 0;
    }
    return (await runContainer(client.agent, spec)).status;
  } finally {
    stdio.restore();
  }
}

/** Stdio callbacks: output to ours; stdin and, on a terminal, raw mode and window sizes. */
function stdioFor(
  session: Session,
  client: AgentClient,
  o: { tty: boolean; stdin: boolean; timeoutMs: number },
): { options: StdioOptions; restore(): void } {
  const { io } = session;
  const stdin = process.stdin;
  const onTerminal = o.tty && o.stdin && stdin.isTTY === true;
  let ids: { containerId: string; execId: string } | undefined;
  const resize = () => {
    if (!ids) return;
    void client.agent
      .ttyWinResize({ ...ids, row: process.stdout.rows ?? 24, column: process.stdout.columns ?? 80 })
      .catch(() => {});
  };
  const options: StdioOptions = {
    onStdout: (data) => io.out(data),
    onStderr: (data) => io.err(data),
    timeoutMs: o.timeoutMs,
    ...(o.stdin ? { stdin: stdin as AsyncIterable<Uint8Array> } : {}),
    onStarted: (started) => {
      ids = started;
      if (!onTerminal) return;
      resize();
      process.stdout.on("resize", resize);
      stdin.setRawMode(true);
    },
  };
  return {
    options,
    restore() {
      if (!onTerminal) return;
      process.stdout.off("resize", resize);
      stdin.setRawMode(false);
      stdin.pause();
    },
  };
}
