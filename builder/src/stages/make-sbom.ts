// Stage: list the installed packages from the root's package database, and the agent with the
// npm packages bundled into it, as an SPDX 2.3 JSON document. Runs before strip-rootfs removes
// the database.
import { lstat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { With } from "../context.js";
import { type BundledProgram, makeSpdx } from "../formats/spdx.js";
import { TOOL_NAME } from "../util/manifest.js";

export async function makeSbom(
  ctx: With<"root" | "distro" | "staging">,
  input: { name: string; agent: BundledProgram },
): Promise<void> {
  const { distro, root } = ctx;
  const { name } = input;
  const hasDb = await lstat(join(root, distro.packageDbPaths[0]!)).then(
    () => true,
    () => false,
  );
  const packages = hasDb ? await distro.installedPackages(root) : [];
  if (!hasDb)
    ctx.progress.info(`no package database at /${distro.packageDbPaths[0]}: the SBOM lists no packages`);
  const doc = makeSpdx({ name, packages, bundled: input.agent, created: ctx.epoch, tool: TOOL_NAME });
  await writeFile(ctx.staging.path(`${name}.spdx.json`), `${JSON.stringify(doc, null, 2)}\n`);
  ctx.artifacts.push(`${name}.spdx.json`);
  ctx.manifest.installed = packages.map((p) => `${p.name}-${p.version}.${p.arch}`);
  ctx.progress.info(
    `${packages.length} packages recorded, and the agent with ${input.agent.packages.length} npm packages`,
  );
}
