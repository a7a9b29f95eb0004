// Stage: install the distribution's packages into the empty root.
import { mkdir } from "node:fs/promises";
import type { BuildContext } from "../build/context.js";
import { packagesFor } from "../distro/package-lists.js";
import type { Distro, DistroOptions, InitMode } from "../distro/types.js";

export async function installPackages(
  ctx: BuildContext,
  distro: Distro,
  options: Omit<DistroOptions, "progress" | "work" | "epoch">,
  init: InitMode,
  extra: readonly string[],
  omit: readonly string[] = [],
): Promise<void> {
  const full: DistroOptions = {
    ...options,
    progress: ctx.progress,
    work: ctx.work,
    epoch: ctx.epoch,
    signal: ctx.signal,
  };
  const { packages, lists } = await packagesFor(options.data, distro.name, init, extra, omit);
  await mkdir(options.root, { recursive: true });
  const sources = await ctx.progress.step("Check repositories", () => distro.setup(full));
  for (const repo of sources.repositories) ctx.progress.info(`${repo.id}: ${repo.url}`);
  ctx.progress.info(`${packages.length} packages: ${packages.join(" ")}`);
  const install = await ctx.progress.step(`Install packages with ${sources.manager}`, () =>
    distro.install(full, packages),
  );
  ctx.manifest.packages = { requested: packages, lists, sources, ...(install ? { install } : {}) };
}
