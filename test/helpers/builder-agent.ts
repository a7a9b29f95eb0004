// The agent build outputs that kata-build packs; built once with `npm run build` if missing.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
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

/** Bundles kata-build (about a second) so tests can run the real CLI. */
export function ensureBuilderBundle(): string {
  execFileSync("node", [join(repo, "builder", "bundle.mjs")], { cwd: repo, stdio: "inherit" });
  return join(repo, "builder", "bin", "kata-build.mjs");
}
