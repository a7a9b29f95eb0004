// test/peers/vsock-probe: a static C program that connects to a Kata agent (vsock or unix), sends
// one ttrpc Health.Check and says whether it was answered, closed, or refused with an errno. Built
// here with `gcc -static` so that it also runs in a container rootfs inside a guest, where
// runLoopbackProbeInContainer checks that a container cannot reach the agent over vsock loopback.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type AgentService, runContainer, type ServiceClient } from "../../agent/src/client/index.js";

export const vsockProbeSource = fileURLToPath(new URL("../peers/vsock-probe/vsock-probe.c", import.meta.url));

/** Compiles the probe (about a second) into `dir` (default: a new temporary directory). */
export function buildVsockProbe(dir: string = mkdtempSync(path.join(tmpdir(), "vsock-probe-"))): string {
  const output = path.join(dir, "vsock-probe");
  execFileSync("gcc", ["-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o", output, vsockProbeSource]);
  return output;
}

export interface ProbeResult {
  /** 0 answered, 1 closed without an answer, 2 an errno, 3 timeout. */
  exitCode: number;
  /** "answered", "closed", "timeout" or "error ENAME". */
  outcome: string;
}

/** Runs the probe with `args` ("vsock CID PORT", "unix PATH") and reads its one line. */
export function runVsockProbe(probe: string, args: string[]): ProbeResult {
  try {
    const outcome = execFileSync(probe, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    return { exitCode: 0, outcome: outcome.trim() };
  } catch (err) {
    const e = err as { status: number; stdout: string };
    return { exitCode: e.status, outcome: String(e.stdout).trim() };
  }
}

export interface LoopbackProbeResult extends ProbeResult {
  /** Everything the container printed, for a failure message. */
  output: string;
}

/**
 * In a booted guest: a container (root `rootPath`, holding the probe at `probe`) tries to call
 * the agent on `port` over vsock loopback (CID 1; a guest without a virtio-vsock device, as under
 * the boot check, has no other CID). Without agent.allow_vsock_loopback it must come back
 * "closed" (the agent accepted and dropped the connection) or an error, never "answered".
 */
export async function runLoopbackProbeInContainer(
  agent: ServiceClient<typeof AgentService>,
  options: { rootPath: string; probe?: string; port?: number; containerId?: string },
): Promise<LoopbackProbeResult> {
  const id = options.containerId ?? "vsock-probe";
  const probe = options.probe ?? "/vsock-probe";
  const port = options.port ?? 1024;
  const script = `${probe} vsock 1 ${port}; echo "exit=$?"`;
  let output = "";
  await runContainer(agent, {
    containerId: id,
    rootfs: options.rootPath,
    args: ["sh", "-c", script],
    env: ["PATH=/bin"],
    hostname: id,
    timeoutMs: 60_000,
    onStdout: (data) => {
      output += Buffer.from(data).toString();
    },
  });
  // The probe prints its outcome on one line, then the shell its exit status.
  const m = /^(.*)\r?\nexit=(\d+)\s*$/m.exec(output);
  return { exitCode: Number(m?.[2] ?? Number.NaN), outcome: m?.[1]?.trim() ?? "", output };
}
