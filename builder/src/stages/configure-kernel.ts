// Stage: the kernel's .config, from our merged fragments: write them as KCONFIG_ALLCONFIG,
// `make allnoconfig` (every option not requested starts off), then `make olddefconfig` (every
// remaining question gets its default). Kconfig may silently drop requests whose dependencies
// are off; the verify stage checks that.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { With } from "../context.js";
import { type MergedConfig, renderMerged } from "../kernel/kconfig/merge.js";
import type { ConfiguredKernel, KernelTree } from "../kernel/types.js";
import { logTail, runMake, whyFailed } from "../tools/make.js";
import { BuildError } from "../util/errors.js";

export interface ConfigureKernelInput {
  tree: KernelTree;
  merged: MergedConfig;
  /** The object directory (make O=). */
  objDir: string;
}

export async function configureKernel(
  ctx: With<"kernel">,
  input: ConfigureKernelInput,
): Promise<ConfiguredKernel> {
  const { tree, merged, objDir } = input;
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
        arch: ctx.kernel.kernelArch.make,
        targets: [target],
        vars,
        logPath,
        ...(ctx.signal ? { cancelSignal: ctx.signal } : {}),
        timeout: 10 * 60_000,
      }),
    );
    if (!result.ok) {
      throw new BuildError(
        `make ${target} ${whyFailed(result, (code) => `exited with ${code}`)}; full output in ${logPath}:\n    ${(await logTail(logPath, 15)).join("\n    ")}`,
        "a kernel tree needs gcc, make, flex and bison to configure (apt-get install build-essential flex bison)",
      );
    }
  }
  const configPath = join(objDir, ".config");
  return { objDir, configPath, configText: await readFile(configPath, "utf8"), allconfigPath, logPath };
}
