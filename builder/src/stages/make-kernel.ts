// Stage: compile vmlinux and the boot image (bzImage on x86_64) in the object directory.
// make's output goes to a log file; every 30 s a line says how far the compile has got, and a
// failure shows the log's last lines and where the whole log is.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { With } from "../context.js";
import type { BuiltKernel, KernelTree } from "../kernel/types.js";
import { compiledCount, logTail, runMake, whyFailed } from "../tools/make.js";
import { BuildError } from "../util/errors.js";

export async function makeKernel(
  ctx: With<"kernel">,
  input: { tree: KernelTree; objDir: string },
): Promise<BuiltKernel> {
  const { tree, objDir } = input;
  const { kernelArch, jobs } = ctx.kernel;
  const logPath = join(objDir, "kata-make.log");
  const imageTarget = kernelArch.image.split("/").pop()!;
  return ctx.progress.step(
    `Compiling Linux ${tree.version} (make -j${jobs} vmlinux ${imageTarget})`,
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
          arch: kernelArch.make,
          targets: ["vmlinux", imageTarget],
          jobs,
          logPath,
          ...(ctx.signal ? { cancelSignal: ctx.signal } : {}),
          timeout: 120 * 60_000,
        });
        if (!result.ok) {
          throw new BuildError(
            `kernel build ${whyFailed(result, (code) => `failed (exit ${code})`)} after ${result.seconds.toFixed(0)}s; last lines of ${logPath}:\n    ${(await logTail(logPath, 25)).join("\n    ")}`,
            `the whole make output is in ${logPath}`,
          );
        }
        const release = await readFile(join(objDir, "include/config/kernel.release"), "utf8");
        return {
          vmlinux: join(objDir, "vmlinux"),
          image: join(objDir, kernelArch.image),
          release: release.trim(),
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
