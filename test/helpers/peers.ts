// Independent protocol peers for tests: containerd's Go ttrpc (test/peers/go) and Python grpcio
// (test/peers/python). Each peer command prints exactly one JSON object on stdout; these helpers
// build the peers once per test process, run them and parse that object.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const goBuildScript = path.join(repoRoot, "test/peers/go/build.sh");
const pythonScript = path.join(repoRoot, "test/peers/python/grpc_client.py");

/** Debian's interpreter: the only one with python3-grpcio (the `python3` on PATH may be pyenv). */
export const DEBIAN_PYTHON = "/usr/bin/python3";

/** Default time a single peer invocation may take before it is killed (a hung peer fails the test). */
const DEFAULT_RUN_TIMEOUT_MS = 60_000;

export interface GoPeers {
  /** Path of `kata-ttrpc-client`. */
  client: string;
  /** Path of `kata-ttrpc-health-server`. */
  server: string;
}

export interface PythonPeer {
  /** Path of `grpc_client.py`; run it with {@link DEBIAN_PYTHON}. */
  script: string;
}

/** The `error` member peers print on failure. */
export interface PeerError {
  /** gRPC code name: "Unimplemented" from the Go client, "UNIMPLEMENTED" from the Python client. */
  code: string;
  codeNumber: number;
  message: string;
  /** Go client only: the error was produced locally (dial failure, closed connection, client deadline). */
  local?: boolean;
}

export interface PeerResult {
  /**
   * 0 success; 1 RPC error from the server (Python: any RPC error, including UNAVAILABLE);
   * 2 usage error; 3 local error (Go: dial/connection/client deadline; Python: code generation).
   */
  exitCode: number;
  /** The JSON object the peer printed. */
  json: Record<string, unknown>;
  /** `json.error`, validated, when present. */
  error: PeerError | undefined;
  stderr: string;
}

export interface RunOptions {
  /** Per-call deadline sent to the server (ttrpc timeout_nano / gRPC deadline), e.g. "2s". */
  timeout?: string;
  /** Go client only: how much longer than `timeout` the client waits, to observe the server's own deadline error. */
  grace?: string;
  /** Kill the peer after this long (default 60 s). */
  killAfterMs?: number;
}

let goPeers: Promise<GoPeers> | undefined;
let pythonPeer: Promise<PythonPeer> | undefined;

/** Builds the Go peers (cached across runs by build.sh; memoised per process). */
export function buildGoPeers(): Promise<GoPeers> {
  goPeers ??= (async () => {
    const r = await execa("bash", [goBuildScript], { reject: false, stdin: "ignore", timeout: 600_000 });
    if (r.exitCode !== 0) {
      throw new Error(`test/peers/go/build.sh failed (exit ${r.exitCode}):\n${r.stderr}`);
    }
    const json = parseObject(lastLine(r.stdout), "test/peers/go/build.sh");
    const { client, server } = json;
    if (
      typeof client !== "string" ||
      typeof server !== "string" ||
      !existsSync(client) ||
      !existsSync(server)
    ) {
      throw new Error(`test/peers/go/build.sh printed unexpected output: ${r.stdout}`);
    }
    return { client, server };
  })();
  // A failed build is not memoised, so a later caller gets a fresh attempt and error.
  goPeers.catch(() => {
    goPeers = undefined;
  });
  return goPeers;
}

/** Generates the Python peer's message and stub modules (cached by hash; memoised per process). */
export function buildPythonPeer(): Promise<PythonPeer> {
  pythonPeer ??= (async () => {
    const r = await execa(DEBIAN_PYTHON, [pythonScript, "build"], { reject: false, stdin: "ignore" });
    if (r.exitCode !== 0) {
      throw new Error(`grpc_client.py build failed (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
    }
    return { script: pythonScript };
  })();
  pythonPeer.catch(() => {
    pythonPeer = undefined;
  });
  return pythonPeer;
}

/**
 * Runs `kata-ttrpc-client --addr <addr> [--timeout T [--grace G]] <args...>`.
 * `addr` is `unix:///path`, `unix://@abstract` or `tcp://host:port`.
 */
export async function runGoClient(
  addr: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<PeerResult> {
  const { client } = await buildGoPeers();
  const flags = ["--addr", addr];
  if (opts.timeout !== undefined) flags.push("--timeout", opts.timeout);
  if (opts.grace !== undefined) flags.push("--grace", opts.grace);
  return runPeer(client, [...flags, ...args], opts);
}

/** Runs `grpc_client.py --addr <addr> [--timeout T] <args...>`; `addr` is a gRPC target such as `unix:/path`. */
export async function runPythonClient(
  addr: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<PeerResult> {
  const { script } = await buildPythonPeer();
  const flags = ["--addr", addr];
  if (opts.timeout !== undefined) flags.push("--timeout", opts.timeout);
  return runPeer(DEBIAN_PYTHON, [script, ...flags, ...args], opts);
}

async function runPeer(file: string, args: readonly string[], opts: RunOptions): Promise<PeerResult> {
  const name = path.basename(args[0]?.endsWith(".py") ? args[0] : file);
  const r = await execa(file, args, {
    reject: false,
    stdin: "ignore",
    timeout: opts.killAfterMs ?? DEFAULT_RUN_TIMEOUT_MS,
  });
  if (r.exitCode === undefined) {
    throw new Error(`${name} ${args.join(" ")} did not exit normally (${r.shortMessage})\n${r.stderr}`);
  }
  const json = parseObject(r.stdout, `${name} ${args.join(" ")}`, r.stderr);
  return { exitCode: r.exitCode, json, error: peerError(json.error), stderr: r.stderr };
}

export interface GoHealthServer {
  addr: string;
  pid: number;
  /** SIGTERM, then wait for exit. */
  stop(): Promise<void>;
}

/**
 * Starts the Go reference ttrpc server (grpc.Health only) on `addr` and resolves once it listens.
 * `extraArgs` e.g. `["--version-delay", "5s"]` makes Version a slow call.
 */
export async function startGoHealthServer(
  addr: string,
  extraArgs: readonly string[] = [],
): Promise<GoHealthServer> {
  const { server } = await buildGoPeers();
  const proc = execa(server, ["--addr", addr, ...extraArgs], { reject: false, stdin: "ignore" });
  const pid = proc.pid;
  if (pid === undefined) throw new Error(`could not start ${server}`);
  await waitForListening(proc, addr);
  return {
    addr,
    pid,
    async stop() {
      proc.kill("SIGTERM");
      await proc;
    },
  };
}

function waitForListening(
  proc: ResultPromise<{ reject: false; stdin: "ignore" }>,
  addr: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`kata-ttrpc-health-server did not listen on ${addr} within 10 s`));
    }, 10_000);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (out.includes('"listening"')) {
        clearTimeout(timer);
        proc.stdout.off("data", onData);
        resolve();
      }
    };
    proc.stdout.on("data", onData);
    void proc.then((r) => {
      clearTimeout(timer);
      reject(
        new Error(`kata-ttrpc-health-server exited before listening (exit ${r.exitCode}):\n${r.stderr}`),
      );
    });
  });
}

export interface BenchResult {
  calls: number;
  seconds: number;
  callsPerSec: number;
  p50us: number;
  p99us: number;
  meanus: number;
}

/** Validates the output of the Go client's `bench` command. */
export function asBenchResult(json: Record<string, unknown>): BenchResult {
  const keys = ["calls", "seconds", "callsPerSec", "p50us", "p99us", "meanus"] as const;
  const out: Partial<Record<(typeof keys)[number], number>> = {};
  for (const k of keys) {
    const v = json[k];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new Error(`bench output: ${k} is not a finite number: ${JSON.stringify(json)}`);
    }
    out[k] = v;
  }
  return out as BenchResult;
}

export interface ConcurrentCheck {
  seq: number;
  us: number;
  ok: boolean;
  /** The blocking call was still unanswered when this Check returned. */
  blockingPending: boolean;
  error?: PeerError;
}

export interface ConcurrentResult {
  blocking: {
    service: string;
    method: string;
    pending: boolean;
    ms?: number;
    response?: Record<string, unknown>;
    error?: PeerError;
  };
  checks: ConcurrentCheck[];
  allChecksOk: boolean;
  blockingPendingThroughout: boolean;
  error?: PeerError;
}

/** Validates the output of the Go client's `concurrent` command. */
export function asConcurrentResult(json: Record<string, unknown>): ConcurrentResult {
  const { blocking, checks, allChecksOk, blockingPendingThroughout } = json;
  if (
    !isObject(blocking) ||
    typeof blocking.pending !== "boolean" ||
    !Array.isArray(checks) ||
    !checks.every((c) => isObject(c) && typeof c.us === "number" && typeof c.blockingPending === "boolean") ||
    typeof allChecksOk !== "boolean" ||
    typeof blockingPendingThroughout !== "boolean"
  ) {
    throw new Error(`concurrent output has an unexpected shape: ${JSON.stringify(json)}`);
  }
  return json as unknown as ConcurrentResult;
}

function peerError(v: unknown): PeerError | undefined {
  if (v === undefined) return undefined;
  if (
    !isObject(v) ||
    typeof v.code !== "string" ||
    typeof v.codeNumber !== "number" ||
    typeof v.message !== "string"
  ) {
    throw new Error(`malformed error object from peer: ${JSON.stringify(v)}`);
  }
  const err: PeerError = { code: v.code, codeNumber: v.codeNumber, message: v.message };
  if (typeof v.local === "boolean") err.local = v.local;
  return err;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function lastLine(text: string): string {
  return text.trimEnd().split("\n").at(-1) ?? "";
}

function parseObject(text: string, what: string, stderr = ""): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`${what}: stdout is not one JSON object:\n${text}\nstderr:\n${stderr}`);
  }
  if (!isObject(v)) throw new Error(`${what}: stdout is not a JSON object: ${text}`);
  return v;
}

export interface GoPodOptions {
  /** Container root filesystem (the busybox rootfs); replaces the spec's root.path. */
  rootfs: string;
  /** OCI runtime-spec config.json (e.g. from `runc spec`), converted to the agent's protobuf Spec by the client. */
  runtimeSpec: string;
  /** > 0: the workload gets this memory limit (MiB) and outgrows it; an OOM event and status 137 are expected. */
  oomMb?: number;
  /** The workload sleeps this long (e.g. "3s") before writing, so its reads stay pending across monitor checks. */
  hold?: string;
  /** Health.Check period of the client's monitor (default "1s"). */
  monitorInterval?: string;
  /** The client abandons the scenario after this long (default "90s") and still prints its report. */
  deadline?: string;
  /** Extra `pod` flags, e.g. ["--sandbox-id", "..."]. */
  extraArgs?: readonly string[];
  /** Kill the client after this long (default: 30 s after the deadline). */
  killAfterMs?: number;
}

export interface GoPodStream {
  lines: number;
  expected: number;
  bytes: number;
  /** Non-empty ReadStdout/ReadStderr replies. */
  reads: number;
  eof: boolean;
  /** Every expected line arrived exactly once and nothing else did. */
  complete: boolean;
  /** The lines are exactly the expected sequence. */
  inOrder: boolean;
  firstMismatch?: string;
  eofAtMs?: number;
  error?: PeerError;
}

export interface GoPodCheck {
  seq: number;
  atMs: number;
  us: number;
  ok: boolean;
  /** Blocking calls (ReadStdout, ReadStderr, WaitProcess, GetOOMEvent) pending both when the Check was sent and answered. */
  blockedBy: string[];
  error?: PeerError;
}

export interface GoPodLatency {
  checks: number;
  maxUs: number;
  p50Us: number;
}

export interface GoPodStep {
  /** e.g. "CreateSandbox", "pause.CreateContainer", "workload.stop.RemoveContainer". */
  step: string;
  atMs: number;
  ms: number;
  ok: boolean;
  error?: PeerError;
  /** The runtime ignores or only logs this call's errors. */
  tolerated?: boolean;
  /** WaitProcess steps: the status returned. */
  status?: number;
}

/** The report of `kata-ttrpc-client pod`. */
export interface GoPodReport {
  ok: boolean;
  /** Why `ok` is false (empty when it is true). */
  failures: string[];
  mode: "output" | "oom";
  sandboxId: string;
  workloadId: string;
  workloadArgs: string[];
  /** Spec fields the client's converter did not carry over, e.g. "linux.resources.devices". */
  specIgnored: string[];
  sandboxPidns: boolean;
  stdout: GoPodStream;
  stderr: GoPodStream;
  exitStatus: number | null;
  expectedStatus: number;
  oomEvents: { containerId: string; atMs: number }[];
  oomWatcher: { calls: number; errors: PeerError[]; stoppedBy: string };
  monitor: {
    intervalMs: number;
    checks: number;
    failed: number;
    all: GoPodLatency;
    /** Checks while any blocking call was pending (GetOOMEvent is pending most of the time). */
    whileBlocking: GoPodLatency;
    /** Checks while ReadStdout/ReadStderr/WaitProcess were pending. */
    whileIo: GoPodLatency;
    samples: GoPodCheck[];
  };
  /** Calls in flight on the connection at the peak, and which. */
  inFlight: { peak: number; peakMethods: Record<string, number>; total: number };
  guestDetails?: Record<string, unknown>;
  steps: GoPodStep[];
  /** Errors by step name (including tolerated ones). */
  errors: Record<string, PeerError>;
  seconds: number;
}

export interface GoPodResult {
  /** 0: the whole sequence worked as the runtime requires; 1: see report.failures; 2/3: usage/connection error. */
  exitCode: number;
  report: GoPodReport;
  /** The client's step-by-step progress log. */
  stderr: string;
}

/**
 * Runs `kata-ttrpc-client --addr <addr> pod ...`: one pod over one connection exactly as the Kata
 * Go runtime drives it (see test/peers/go/.../pod.go). Note that its DestroySandbox makes the agent
 * exit, as upstream's does.
 */
export async function runGoPod(addr: string, opts: GoPodOptions): Promise<GoPodResult> {
  const deadline = opts.deadline ?? "90s";
  const args = ["pod", "--rootfs", opts.rootfs, "--runtime-spec", opts.runtimeSpec, "--deadline", deadline];
  if (opts.oomMb !== undefined) args.push("--oom-mb", String(opts.oomMb));
  if (opts.hold !== undefined) args.push("--hold", opts.hold);
  if (opts.monitorInterval !== undefined) args.push("--monitor-interval", opts.monitorInterval);
  args.push(...(opts.extraArgs ?? []));
  const r = await runGoClient(addr, args, {
    killAfterMs: opts.killAfterMs ?? goDurationMs(deadline) + 30_000,
  });
  if (r.error || !isGoPodReport(r.json)) {
    throw new Error(
      `kata-ttrpc-client pod gave no report (exit ${r.exitCode}): ${JSON.stringify(r.json)}\n${r.stderr}`,
    );
  }
  return { exitCode: r.exitCode, report: r.json, stderr: r.stderr };
}

/** The Spec the `pod` command would send for a config.json (offline), with what it ignored. */
export async function goConvertSpec(
  runtimeSpec: string,
  opts: { rootfs?: string; raw?: boolean } = {},
): Promise<{ spec: Record<string, unknown>; sandboxPidns: boolean; ignored: string[] }> {
  const { client } = await buildGoPeers();
  const args = ["convert-spec", "--runtime-spec", runtimeSpec];
  if (opts.rootfs !== undefined) args.push("--rootfs", opts.rootfs);
  if (opts.raw) args.push("--raw");
  const r = await runPeer(client, args, {});
  const { spec, sandboxPidns, ignored } = r.json;
  if (r.exitCode !== 0 || !isObject(spec) || typeof sandboxPidns !== "boolean" || !Array.isArray(ignored)) {
    throw new Error(`convert-spec failed (exit ${r.exitCode}): ${JSON.stringify(r.json)}`);
  }
  return { spec, sandboxPidns, ignored: ignored as string[] };
}

function isGoPodReport(json: Record<string, unknown>): json is Record<string, unknown> & GoPodReport {
  const { ok, failures, stdout, stderr, monitor, steps, errors, oomEvents, inFlight } = json;
  return (
    typeof ok === "boolean" &&
    Array.isArray(failures) &&
    isObject(stdout) &&
    isObject(stderr) &&
    isObject(monitor) &&
    Array.isArray(monitor.samples) &&
    Array.isArray(steps) &&
    isObject(errors) &&
    Array.isArray(oomEvents) &&
    isObject(inFlight)
  );
}

/** Milliseconds of a Go duration of the simple forms used here ("90s", "1500ms", "2m"). */
function goDurationMs(d: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(d);
  if (!m) throw new Error(`unsupported duration ${JSON.stringify(d)} (use ms, s or m)`);
  const unit = m[2] === "ms" ? 1 : m[2] === "s" ? 1000 : 60_000;
  return Number(m[1]) * unit;
}
