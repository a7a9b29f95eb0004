// The agent build outputs that kata-build packs; built once with `npm run build` if missing.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repo = fileURLToPath(new URL("../..", import.meta.url));
export const agentDir = join(repo, "agent");

export function ensureAgentBuilt(): string {
  // The bundle and the list of npm packages in it (the SBOM reads it), from one `npm run build`.
  if (!["kata-agent.mjs", "kata-agent.packages.json"].every((f) => existsSync(join(agentDir, "dist", f)))) {
    execFileSync("npm", ["run", "build"], { cwd: repo, stdio: "inherit" });
  }
  return agentDir;
}

/** The newest modification time of the TypeScript sources under `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (e.name.endsWith(".ts")) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Bundles kata-build and the library (about a second) so tests can run the real CLI, unless
 * both are newer than every source they are made from: test files running at the same time
 * then never rewrite a bundle another one is running.
 */
export function ensureBuilderBundle(): string {
  const outputs = [
    join(repo, "builder", "dist", "kata-build.mjs"),
    join(repo, "builder", "dist", "lib", "builder.mjs"),
  ];
  const built = Math.min(...outputs.map((f) => (existsSync(f) ? statSync(f).mtimeMs : 0)));
  const sources = Math.max(
    ...["builder/src", "agent/src", "agent/gen"].map((d) => newestSource(join(repo, d))),
    statSync(join(repo, "builder", "bundle.mjs")).mtimeMs,
  );
  if (built <= sources) {
    execFileSync("node", [join(repo, "builder", "bundle.mjs")], { cwd: repo, stdio: "inherit" });
  }
  return join(repo, "builder", "bin", "kata-build.mjs");
}
