// Stage: install the distribution's packages into the empty root.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { With } from "../context.js";
import { packagesFor } from "../distro/package-lists.js";
import type { DistroOptions } from "../distro/types.js";

export interface InstallPackagesInput {
  /** Where packages come from and how they are checked. */
  sources: Pick<DistroOptions, "mirror" | "gpgKey" | "repoGpgcheck" | "variant" | "refresh">;
  /** Packages beyond the lists in rootfs/<distro>/. */
  extra: readonly string[];
  /** Packages of the lists to leave out. */
  omit: readonly string[];
}

export async function installPackages(
  ctx: With<"data" | "cache" | "root" | "work" | "distro" | "init">,
  input: InstallPackagesInput,
): Promise<void> {
  const { distro } = ctx;
  const options: DistroOptions = {
    ...input.sources,
    data: ctx.data,
    root: ctx.root,
    cache: join(ctx.cache, distro.name),
    progress: ctx.progress,
    work: ctx.work,
    epoch: ctx.epoch,
    signal: ctx.signal,
  };
  const { packages, lists } = await packagesFor(ctx.data, distro.name, ctx.init, input.extra, input.omit);
  await mkdir(ctx.root, { recursive: true });
  const sources = await ctx.progress.step("Check repositories", () => distro.setup(options));
  for (const repo of sources.repositories) ctx.progress.info(`${repo.id}: ${repo.url}`);
  ctx.progress.info(`${packages.length} packages: ${packages.join(" ")}`);
  const install = await ctx.progress.step(`Install packages with ${sources.manager}`, () =>
    distro.install(options, packages),
  );
  ctx.manifest.packages = { requested: packages, lists, sources, ...(install ? { install } : {}) };
}
