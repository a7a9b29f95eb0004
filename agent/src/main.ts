// kata-agent: the Kata Containers guest agent. Parses its configuration, starts serving the
// agent API, and handles signals; everything else lives in the layers below.
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, settingsHelp } from "./config/load.js";
import type { AgentConfig } from "./config/table.js";
import type { DebugConsole } from "./console/debug-console.js";
import { decideInGuest, readStartFacts } from "./init/in-guest.js";
import { exitAgent, isInit, setupAsInit, startLoopback } from "./init/index.js";
import { SystemdNotifier } from "./init/sd-notify.js";
import { startTimeSync } from "./init/time-sync.js";
import { type Level, Logger, levels } from "./log.js";
import { type LogPort, startLogPort } from "./log-port.js";
import { native } from "./native/index.js";
import { Reaper } from "./processes/reaper.js";
import { buildRouter } from "./rpc/index.js";
import { startAgentServer } from "./server.js";
import { AgentServices } from "./services.js";
import { chunksSince, mark, readyRecord } from "./startup-clock.js";
import { VMADDR_CID_ANY } from "./transport/address.js";
import { settleAfterStart } from "./util/reclaim.js";
import { AGENT_VERSION, API_VERSION } from "./version.js";

const USAGE = `Usage: kata-agent [--config FILE] [--cmdline FILE]
       kata-agent --version

The Kata Containers guest agent: serves grpc.AgentService and grpc.Health over ttrpc
(and HTTP/2 gRPC when agent.grpc_addr is set) so that the Kata runtime can run containers
in this VM.

Options:
  -c, --config FILE    read settings from this TOML file (then the environment)
      --cmdline FILE   read agent.* parameters from FILE instead of /proc/cmdline
  -v, --version        print the version and exit
  -h, --help           show this help

Settings (kernel parameter | environment variable | TOML key):
`;

export async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseCli>;
  try {
    args = parseCli(argv);
  } catch (err) {
    // Only a mistyped command line pays for loading the suggestions.
    const { parseArgsError, flagsOf } = await import("./cli/parse-args.js");
    const message = parseArgsError(err, flagsOf(CLI_OPTIONS)).message;
    process.stderr.write(`kata-agent: ${message}\nRun 'kata-agent --help' for usage.\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}${settingsHelp()}\n`);
    return 0;
  }
  if (args.version) {
    process.stdout.write(`kata-agent ${AGENT_VERSION} (agent API ${API_VERSION}, node ${process.version})\n`);
    return 0;
  }

  // How we were started, read before NOTIFY_SOCKET leaves the environment.
  const startFacts = readStartFacts();
  const systemd = SystemdNotifier.take();
  // As PID 1 nothing is mounted yet, not even /proc with the kernel command line.
  const init = isInit();
  if (init) {
    try {
      // Loading the addon is its own phase: the first require() of a start.
      native();
      mark("addon");
      const { mounted, failed } = setupAsInit();
      process.stderr.write(`kata-agent: running as init; mounted ${mounted.join(" ")}\n`);
      for (const f of failed) process.stderr.write(`kata-agent: could not mount ${f}\n`);
    } catch (err) {
      process.stderr.write(`kata-agent: early init failed: ${(err as Error).message}\n`);
    }
    mark("init");
  }

  let config: AgentConfig;
  let log: Logger;
  try {
    const loaded = loadConfig({
      ...(args.config ? { configFile: args.config } : {}),
      ...(args.cmdline ? { cmdlineFile: args.cmdline } : {}),
    });
    config = loaded.config;
    log = Logger.create(config.logLevel);
    for (const warning of loaded.warnings) log.warn(warning, { subsystem: "config" });
    log.debug("configuration loaded", { sources: loaded.sources });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`kata-agent: configuration error: ${err.message}\n`);
    return 2;
  }
  mark("config");

  protectFromOomKiller(log);
  becomeSubreaper(log);
  let logPort: LogPort | undefined;
  if (config.logVport > 0) {
    try {
      logPort = await startLogPort(
        log,
        { scheme: "vsock", cid: VMADDR_CID_ANY, port: config.logVport },
        undefined,
        { allowVsockLoopback: config.allowVsockLoopback },
      );
    } catch (err) {
      // Logs still reach stderr (the console): not a reason to leave the pod without an agent.
      log.error("cannot serve the log port; logging to stderr", { error: err });
    }
  }

  // Acting on the guest itself (hostname, resolv.conf, modules, bus rescans) is for a VM only.
  const guestDecision = decideInGuest(startFacts, config.inGuest);
  const { inGuest } = guestDecision;
  log.info(inGuest ? "in a guest: acting on it" : "not in a guest: leaving the system alone", {
    inGuest,
    reason: guestDecision.reason,
  });
  // One reaper for the containers' processes and the debug console's shells, from the start:
  // as PID 1 the agent collects every orphan.
  const reaper = new Reaper(log.child({ subsystem: "reaper" }));
  // Loaded only when asked for (or to warn that it was half asked for).
  let debugConsole: DebugConsole | undefined;
  if (config.debugConsole || config.debugConsoleVport > 0 || config.debugConsoleAddr.length) {
    const { startDebugConsole } = await import("./console/debug-console.js");
    debugConsole = await startDebugConsole({
      enabled: config.debugConsole,
      vport: config.debugConsoleVport,
      addresses: config.debugConsoleAddr,
      allowVsockLoopback: config.allowVsockLoopback,
      reaper,
      log,
    });
  }

  // DestroySandbox ends the agent, as upstream; `stop` is bound once the server is up.
  let stop: (reason: string) => void = () => {};
  const memAgent = config.memAgentEnable
    ? await (await import("./guest/mem-agent/mem-agent.js")).MemAgent.start({
        roots: (await import("./guest/roots.js")).realRoots,
        parameters: config.memAgent,
        log,
      })
    : undefined;
  const services = new AgentServices({
    config,
    log,
    inGuest,
    reaper,
    ...(memAgent ? { memAgent } : {}),
    onSandboxDestroyed: () => setImmediate(() => stop("sandbox destroyed")),
    features: () => ({
      inGuest,
      inGuestReason: guestDecision.reason,
      debugConsole: debugConsole?.addresses ?? [],
      vsockLoopbackAllowed: config.allowVsockLoopback,
    }),
  });
  // As upstream: a policy file that cannot be loaded stops the agent before it serves anything.
  if (config.policyFile) {
    const policy = await services.policy.manager();
    const { PolicyError } = await import("./policy/errors.js");
    try {
      await policy.loadFile(config.policyFile);
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      log.critical("cannot load the agent policy", { error: err.message });
      process.stderr.write(`kata-agent: agent policy: ${err.message}\n`);
      return 2;
    }
  }
  const router = buildRouter(services, (group, method, ms) =>
    log.debug("RPC group loaded on its first call", { group, method, ms: Math.round(ms) }),
  );
  mark("managers");

  let server: Awaited<ReturnType<typeof startAgentServer>>;
  try {
    server = await startAgentServer(config, router, log, {
      onFirstConnection: () => {
        acceptedAt = performance.now();
      },
      onFirstCall: (method) => reportFirstCall(log, method),
    });
  } catch (err) {
    log.critical("cannot start serving the agent API", { error: err });
    process.stderr.write(`kata-agent: cannot listen: ${(err as Error).message}\n`);
    return 1;
  }
  mark("listen");
  stop = installSignalHandlers(log, async () => {
    notifySystemd(systemd, { STOPPING: "1" }, log);
    await server.close(config.shutdownGraceMs);
    await debugConsole?.close();
    await services.shutdown();
    await logPort?.close();
  });
  if (init) {
    startLoopback(log);
    // PID 1 must not die of a bug: log it and power the VM off cleanly instead of a panic.
    process.on("uncaughtException", (err) => {
      log.critical("uncaught exception", { error: err, stack: err.stack });
      exitAgent(70, "uncaught exception", log);
    });
  }
  readyAt = performance.now();
  log.info("agent ready", { version: AGENT_VERSION, addresses: server.addresses, ...readyRecord() });
  notifySystemd(systemd, { READY: "1", STATUS: `serving ${server.addresses.join(" ")}` }, log);
  // As init nobody else starts the clock daemon; after serving, so the runtime never waits for it.
  if (init) setImmediate(() => startTimeSync(log));
  settleAfterStart();
  return 0;
}

let readyAt = 0;
let acceptedAt: number | undefined;

/** The first answered call, on the start-up clock: the end of the agent's share of a boot. */
function reportFirstCall(log: Logger, method: string): void {
  const now = performance.now();
  log.info("first call answered", {
    method,
    sinceStartMs: Math.round(now),
    sinceReadyMs: Math.round(now - readyAt),
    ...(acceptedAt !== undefined ? { firstConnectionMs: Math.round(acceptedAt) } : {}),
    // Code a first call of a group loads on demand (none for Health.Check).
    loadedOnDemand: chunksSince(readyAt),
    ...residentMemory(),
  });
}

/** sd_notify, when systemd asked for it; a failure is logged (systemd then times the unit out). */
function notifySystemd(
  systemd: SystemdNotifier | undefined,
  state: Record<string, string>,
  log: Logger,
): void {
  if (!systemd) return;
  try {
    systemd.notify(state);
  } catch (err) {
    log.error("cannot notify systemd", { socket: systemd.socket, state, error: err });
  }
}

const CLI_OPTIONS = {
  config: { type: "string", short: "c" },
  cmdline: { type: "string" },
  version: { type: "boolean", short: "v" },
  help: { type: "boolean", short: "h" },
} as const;

/** The agent's resident memory (kB) from /proc/self/status: the start's footprint. */
function residentMemory(): { rssAnonKb?: number; vmRssKb?: number } {
  try {
    const status = readFileSync("/proc/self/status", "utf8");
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
    return { rssAnonKb: kb("RssAnon"), vmRssKb: kb("VmRSS") };
  } catch {
    return {};
  }
}

/** The command line; exported for the start-up snapshot's warm-up. */
export function parseCli(argv: string[]) {
  return parseArgs({ args: argv, options: CLI_OPTIONS, strict: true }).values;
}

/** The guest OOM killer must never pick the agent: losing it loses the whole pod. */
function protectFromOomKiller(log: Logger): void {
  try {
    writeFileSync("/proc/self/oom_score_adj", "-997");
  } catch (err) {
    log.debug("cannot lower oom_score_adj (needs root)", { error: err });
  }
}

/** Orphaned container processes must be re-parented to us so their exit codes are not lost. */
function becomeSubreaper(log: Logger): void {
  try {
    native().setChildSubreaper();
  } catch (err) {
    log.warn("cannot become a child subreaper; orphaned processes will not be reaped by the agent", {
      error: err,
    });
  }
}

/** Handles signals; returns the function that stops the agent cleanly (once). */
function installSignalHandlers(log: Logger, shutdown: () => Promise<void>): (reason: string) => void {
  process.on("SIGUSR1", () => {
    const more = levels[Math.max(0, levels.indexOf(log.level) - 1)] as Level;
    log.setLevel(more);
    log.info("log level raised", { newLevel: more });
  });
  process.on("SIGUSR2", () => {
    log.resetLevel();
    log.info("log level restored", { newLevel: log.level });
  });
  let stopping = false;
  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { reason });
    shutdown().then(
      () => {
        log.info("stopped");
        exitAgent(0, reason, log);
      },
      (err: unknown) => {
        log.error("shutdown failed", { error: err });
        exitAgent(1, reason, log);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  return stop;
}
