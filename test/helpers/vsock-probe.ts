// test/peers/vsock-probe: a static C program that connects to a Kata agent (vsock or unix), sends
// one ttrpc Health.Check and says whether it was answered, closed, or refused with an errno. Built
// here with `gcc -static` so that it also runs in a container rootfs inside a guest.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

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
    return {
      exitCode: 0,
      outcome: execFileSync(probe, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim(),
    };
  } catch (err) {
    const e = err as { status: number; stdout: string };
    return { exitCode: e.status, outcome: String(e.stdout).trim() };
  }
}
