// qemu-system-x86_64, run until the guest prints a marker line and exits. Used to prove that a
// kernel boots (TCG only here: KVM is unusable on the CI machine) and to time boot-to-marker.
import { performance } from "node:perf_hooks";
import { execa } from "execa";
import { requireTool } from "../util/host-tools.js";

export interface QemuBootOptions {
  args: readonly string[];
  /** Text whose first appearance on the serial console is timed. */
  marker: string;
  /** Milliseconds before QEMU is killed. */
  timeout: number;
  cancelSignal?: AbortSignal;
}

export interface QemuBootResult {
  command: string;
  exitCode: number | undefined;
  timedOut: boolean;
  isCanceled: boolean;
  /** Seconds from spawning QEMU to the marker, or undefined if it never appeared. */
  markerSeconds?: number;
  /** Seconds until QEMU exited. */
  seconds: number;
  /** Everything the guest printed on the serial console. */
  output: string;
}

export async function bootUntilMarker(options: QemuBootOptions): Promise<QemuBootResult> {
  const qemu = requireTool("qemu-system-x86_64", "boot the kernel");
  const started = performance.now();
  let markerSeconds: number | undefined;
  let seen = "";
  const subprocess = execa(qemu, options.args, {
    reject: false,
    stdin: "ignore",
    timeout: options.timeout,
    cancelSignal: options.cancelSignal,
    cleanup: true,
    forceKillAfterDelay: 2000,
    all: true,
  });
  subprocess.all?.on("data", (chunk: Buffer) => {
    if (markerSeconds !== undefined) return;
    seen = (seen + chunk.toString("latin1")).slice(-4096);
    if (seen.includes(options.marker)) markerSeconds = (performance.now() - started) / 1000;
  });
  const result = await subprocess;
  return {
    command: ["qemu-system-x86_64", ...options.args].join(" "),
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    isCanceled: result.isCanceled,
    ...(markerSeconds !== undefined ? { markerSeconds } : {}),
    seconds: (performance.now() - started) / 1000,
    output: typeof result.all === "string" ? result.all : "",
  };
}
