// Stage: lay the agent bundle, its native addon, the vendored packages and what the start-up
// snapshot is made with into /usr/lib/kata-agent/.
import { existsSync } from "node:fs";
import { chmod, copyFile, cp, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { With } from "../context.js";
import { type BundledProgram, type InstalledPackage, npmPackage } from "../formats/spdx.js";
import { agentVersion } from "../tools/node.js";
import { describeResult } from "../tools/run.js";
import { BuildError } from "../util/errors.js";
import { hostPath } from "../util/in-root.js";
import { sha256File } from "../util/manifest.js";
import { AGENT_DIR_IN_ROOT } from "../util/paths.js";

export interface AgentFiles {
  bundle: string;
  addon: string;
}

/** dist/kata-agent.packages.json, which agent/bundle.mjs writes from esbuild's metafile. */
export const INVENTORY_FILE = "kata-agent.packages.json";

interface Inventory {
  schema: number;
  agent: { name: string; version: string; license: string };
  packages: { name: string; version: string; license: string }[];
}

/** The npm packages bundled into the agent, from the inventory beside its bundle. */
async function readInventory(bundle: string): Promise<Inventory> {
  const file = join(bundle, "..", INVENTORY_FILE);
  let inventory: Inventory;
  try {
    inventory = JSON.parse(await readFile(file, "utf8")) as Inventory;
  } catch (err) {
    throw new BuildError(
      `cannot read ${file}, the list of npm packages bundled into the agent (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      "run `npm run build` in the repository: agent/bundle.mjs writes it with the bundle",
    );
  }
  if (inventory.schema !== 1 || !Array.isArray(inventory.packages)) {
    throw new BuildError(`${file} is not an inventory this kata-build reads`, "run `npm run build` again");
  }
  return inventory;
}

/** Finds the bundle and addon in a flat directory or in the repository's agent/ layout. */
export function locateAgent(dir: string): AgentFiles {
  const candidates: AgentFiles[] = [
    { bundle: join(dir, "kata-agent.mjs"), addon: join(dir, "kata_native.node") },
    { bundle: join(dir, "dist", "kata-agent.mjs"), addon: join(dir, "dist", "kata_native.node") },
    { bundle: join(dir, "dist", "kata-agent.mjs"), addon: join(dir, "native", "build", "kata_native.node") },
  ];
  const found =
    candidates.find((c) => existsSync(c.bundle) && existsSync(c.addon)) ??
    candidates.find((c) => existsSync(c.bundle));
  if (!found) {
    throw new BuildError(
      `no agent bundle in ${dir} (looked for kata-agent.mjs and dist/kata-agent.mjs)`,
      "run `npm run build` in the repository, or pass --agent DIR",
    );
  }
  if (!existsSync(found.addon)) {
    throw new BuildError(
      `the agent's native addon ${found.addon} is missing`,
      "run `npm run build` in the repository",
    );
  }
  return found;
}

/** Installs the agent; returns it with the npm packages bundled into it, for the SBOM. */
export async function installAgent(ctx: With<"root">, input: { agentDir: string }): Promise<BundledProgram> {
  const files = locateAgent(input.agentDir);
  const inventory = await readInventory(files.bundle);
  const version = await agentVersion(files.bundle, { cancelSignal: ctx.signal });
  if (!version.ok) {
    throw new BuildError(
      `the agent bundle ${files.bundle} does not run: node ${describeResult(version)}`,
      version.stderr,
    );
  }
  const dest = await hostPath(ctx.root, `${AGENT_DIR_IN_ROOT}/kata-agent.mjs`);
  await mkdir(join(dest, ".."), { recursive: true });
  await copyFile(files.bundle, dest);
  await chmod(dest, 0o644);
  // A code-split bundle keeps its shared chunks in chunks/ beside the entry file.
  const chunks = join(files.bundle, "..", "chunks");
  if (existsSync(chunks)) {
    await cp(chunks, join(dest, "..", "chunks"), { recursive: true, filter: (src) => !src.endsWith(".map") });
  }
  const addon = join(dest, "..", "kata_native.node");
  await copyFile(files.addon, addon);
  await chmod(addon, 0o755);
  // What the start-up snapshot needs (stage make-agent-snapshot): the entry it is made from,
  // the checker the wrapper asks, and the vendored packages both bundles load at run time.
  const built = join(files.bundle, "..");
  const vendor = join(built, "vendor");
  if (existsSync(vendor)) await cp(vendor, join(dest, "..", "vendor"), { recursive: true });
  for (const [file, mode] of [
    ["kata-agent-snapshot.cjs", 0o644],
    ["kata-agent-snapshot-check", 0o755],
  ] as const) {
    if (!existsSync(join(built, file))) continue;
    await copyFile(join(built, file), join(dest, "..", file));
    await chmod(join(dest, "..", file), mode);
  }
  const packages = inventory.packages.map((p) => npmPackage(p.name, p.version, p.license));
  ctx.manifest.agent = {
    version: version.stdout.trim(),
    bundle: { path: files.bundle, sha256: await sha256File(files.bundle) },
    addon: { path: files.addon, sha256: await sha256File(files.addon) },
    bundled: inventory.packages.map((p) => `${p.name}@${p.version}`),
  };
  ctx.progress.info(`agent ${version.stdout.trim()}, ${packages.length} npm packages bundled`);
  const program: InstalledPackage = {
    name: inventory.agent.name,
    version: inventory.agent.version,
    arch: "",
    license: inventory.agent.license,
    purlType: "generic",
    purlNamespace: "",
  };
  return { program, packages };
}
