// Stage: the kernel's .config, from our merged fragments: write them as KCONFIG_ALLCONFIG,
// `make allnoconfig` (every option not requested starts off), then `make olddefconfig` (every
// remaining question gets its default). Kconfig may silently drop requests whose dependencies
// are off; the verify stage checks that.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { logTail, runMake } from "../../tools/make.js";
import { BuildError } from "../../util/errors.js";
import type { KernelContext } from "../context.js";
import { type MergedConfig, renderMerged } from "../kconfig/merge.js";
import type { KernelTree } from "./unpack-source.js";

export interface ConfiguredKernel {
  objDir: string;
  /** The final .config. */
  configPath: string;
  configText: string;
  /** The merged fragments as given to KCONFIG_ALLCONFIG. */
  allconfigPath: string;
  logPath: string;
}

export async function configureKernel(
  ctx: KernelContext,
  tree: KernelTree,
  merged: MergedConfig,
  objDir: string,
): Promise<ConfiguredKernel> {
  await mkdir(objDir, { recursive: true });
  const allconfigPath = join(objDir, "kata-fragments.config");
  const logPath = join(objDir, "kata-config.log");
  await writeFile(allconfigPath, renderMerged(merged));
  for (const [target, vars] of [
    ["allnoconfig", { KCONFIG_ALLCONFIG: allconfigPath }],
    ["olddefconfig", {}],
  ] as const) {
    const result = await ctx.progress.step(`Running make ${target}`, () =>
      runMake({
        srcDir: tree.path,
        objDir,
        arch: ctx.kernelArch.make,
        targets: [target],
        vars,
        logPath,
        ...(ctx.signal ? { cancelSignal: ctx.signal } : {}),
        timeout: 10 * 60_000,
      }),
    );
    if (!result.ok) {
      const why = result.timedOut
        ? "timed out"
        : result.isCanceled
          ? "was cancelled"
          : `exited with ${result.exitCode}`;
      throw new BuildError(
        `make ${target} ${why}; full output in ${logPath}:\n    ${(await logTail(logPath, 15)).join("\n    ")}`,
        "a kernel tree needs gcc, make, flex and bison to configure (apt-get install build-essential flex bison)",
      );
    }
  }
  const configPath = join(objDir, ".config");
  return { objDir, configPath, configText: await readFile(configPath, "utf8"), allconfigPath, logPath };
}
