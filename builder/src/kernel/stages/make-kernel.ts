// Stage: compile vmlinux and the boot image (bzImage on x86_64) in the object directory.
// make's output goes to a log file; every 30 s a line says how far the compile has got, and a
// failure shows the log's last lines and where the whole log is.
import { join } from "node:path";
import { compiledCount, logTail, runMake } from "../../tools/make.js";
import { BuildError } from "../../util/errors.js";
import type { KernelContext } from "../context.js";
import type { KernelTree } from "./unpack-source.js";

export interface BuiltKernel {
  vmlinux: string;
  /** bzImage (x86_64) or Image (arm64). */
  image: string;
  seconds: number;
  /** CPU seconds of the whole make (user + system, all jobs). */
  cpuSeconds?: number;
  logPath: string;
}

export async function makeKernel(ctx: KernelContext, tree: KernelTree, objDir: string): Promise<BuiltKernel> {
  const logPath = join(objDir, "kata-make.log");
  const imageTarget = ctx.kernelArch.image.split("/").pop()!;
  return ctx.progress.step(
    `Compiling Linux ${tree.version} (make -j${ctx.jobs} vmlinux ${imageTarget})`,
    async () => {
      ctx.progress.info(`make output: ${logPath}`);
      const timer = setInterval(() => {
        compiledCount(logPath).then(
          ({ count, last }) => ctx.progress.info(`${count} files compiled${last ? `, now ${last}` : ""}`),
          () => {},
        );
      }, 30_000);
      timer.unref();
      try {
        const result = await runMake({
          srcDir: tree.path,
          objDir,
          arch: ctx.kernelArch.make,
          targets: ["vmlinux", imageTarget],
          jobs: ctx.jobs,
          logPath,
          ...(ctx.signal ? { cancelSignal: ctx.signal } : {}),
          timeout: 120 * 60_000,
        });
        if (!result.ok) {
          const why = result.timedOut
            ? "timed out"
            : result.isCanceled
              ? "was cancelled"
              : `failed (exit ${result.exitCode})`;
          throw new BuildError(
            `kernel build ${why} after ${result.seconds.toFixed(0)}s; last lines of ${logPath}:\n    ${(await logTail(logPath, 25)).join("\n    ")}`,
            `the whole make output is in ${logPath}`,
          );
        }
        return {
          vmlinux: join(objDir, "vmlinux"),
          image: join(objDir, ctx.kernelArch.image),
          seconds: result.seconds,
          ...(result.cpuSeconds !== undefined ? { cpuSeconds: result.cpuSeconds } : {}),
          logPath,
        };
      } finally {
        clearInterval(timer);
      }
    },
  );
}
