// Boots a kernel under QEMU TCG (q35, 512 MiB) with the smoke initrd and times it: seconds from
// starting QEMU to the marker /init prints, and whether the guest powered off cleanly.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootUntilMarker, type QemuMachine } from "../tools/qemu-system.js";
import { BuildError } from "../util/errors.js";
import type { Progress } from "../util/progress.js";
import { trackTemporary, untrackTemporary } from "../workspace/atomic.js";
import { SMOKE_MARKER, writeSmokeInitrd } from "./smoke-initrd.js";

export interface SmokeBootOptions {
  /** bzImage, or vmlinux to boot through its PVH entry. */
  kernel: string;
  progress?: Progress;
  /** Seconds before QEMU is killed. */
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

export interface SmokeBootResult {
  markerSeconds: number;
  /** Seconds until QEMU exited after the guest's poweroff. */
  exitSeconds: number;
  /** `uname -r` inside the guest. */
  release?: string;
  /** Controllers listed by the guest's cgroup2 root. */
  cgroupControllers?: string[];
  output: string;
}

/** The smallest machine: one CPU, 512 MiB, the console on QEMU's stdout. */
export function smokeMachine(kernel: string, initrd: string): QemuMachine & { console: "stdout" } {
  return {
    kernel,
    initrd,
    cmdline: "console=ttyS0 panic=-1 quiet",
    memoryMiB: 512,
    cpus: 1,
    console: "stdout",
  };
}

export async function smokeBoot(options: SmokeBootOptions): Promise<SmokeBootResult> {
  const run = async (): Promise<SmokeBootResult> => {
    const dir = await mkdtemp(join(tmpdir(), "kata-kernel-smoke-"));
    trackTemporary(dir);
    try {
      const initrd = join(dir, "initrd.gz");
      await writeSmokeInitrd(initrd);
      const result = await bootUntilMarker(smokeMachine(options.kernel, initrd), {
        marker: SMOKE_MARKER,
        timeout: (options.timeoutSeconds ?? 120) * 1000,
        ...(options.signal ? { cancelSignal: options.signal } : {}),
      });
      const tail = result.output.trimEnd().split("\n").slice(-20).join("\n    ");
      if (result.markerSeconds === undefined) {
        throw new BuildError(
          `${options.kernel} did not reach /init under QEMU (${result.timedOut ? "timed out" : `exit ${result.exitCode}`}); console:\n    ${tail}`,
        );
      }
      if (result.timedOut || result.exitCode !== 0) {
        throw new BuildError(
          `${options.kernel} reached /init but QEMU did not exit after poweroff (ACPI missing?); console:\n    ${tail}`,
        );
      }
      const release = /KATA-SMOKE release: (\S+)/.exec(result.output)?.[1];
      const controllers = /KATA-SMOKE cgroup2: ([^\r\n]*)/.exec(result.output)?.[1];
      return {
        markerSeconds: result.markerSeconds,
        exitSeconds: result.seconds,
        ...(release ? { release } : {}),
        ...(controllers !== undefined ? { cgroupControllers: controllers.trim().split(/\s+/) } : {}),
        output: result.output,
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
      untrackTemporary(dir);
    }
  };
  return options.progress ? options.progress.step(`Booting ${options.kernel} under QEMU TCG`, run) : run();
}
