// tdnf and dnf, the RPM package managers of Azure Linux. They share most of their command
// line; the differences (the repository directory key, plugin switches) live here, so the
// distro strategy only says what to install where.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { findTool } from "../util/host-tools.js";
import { killAgent } from "./gpgconf.js";
import { type RunOptions, runTool, type ToolResult } from "./run.js";

export type RpmManager = "tdnf" | "dnf";

/** tdnf where present (Azure Linux hosts and containers), else dnf. */
export function pickRpmManager(find: (tool: string) => string | undefined = findTool): RpmManager {
  return find("tdnf") ? "tdnf" : "dnf";
}

export interface DnfConfig {
  cacheDir: string;
  reposDir: string;
  /** Keep downloaded packages in the cache for later builds. */
  keepCache: boolean;
}

/** The [main] section of the configuration file both managers read with --config. */
export function mainConfig(manager: RpmManager, config: DnfConfig): string {
  const lines = [
    "[main]",
    "gpgcheck=1",
    `keepcache=${config.keepCache ? 1 : 0}`,
    `cachedir=${config.cacheDir}`,
    // dnf calls the directory of .repo files "reposdir", tdnf "repodir".
    `${manager === "tdnf" ? "repodir" : "reposdir"}=${config.reposDir}`,
    "install_weak_deps=0",
    "clean_requirements_on_remove=1",
  ];
  if (manager === "dnf") lines.push("tsflags=nodocs", "metadata_expire=6h", "skip_if_unavailable=False");
  return `${lines.join("\n")}\n`;
}

export interface InstallRequest {
  manager: RpmManager;
  installRoot: string;
  releasever: string;
  configFile: string;
  cacheDir: string;
  packages: readonly string[];
  /** Limit the run to these repository ids (all others disabled). */
  repos?: readonly string[];
}

/** The argument vector of an install into an empty root. */
export function installArgs(req: InstallRequest): string[] {
  const tdnf = req.manager === "tdnf";
  const args = [
    "-y",
    tdnf ? "--installroot" : `--installroot=${req.installRoot}`,
    ...(tdnf ? [req.installRoot] : []),
    tdnf ? "--releasever" : `--releasever=${req.releasever}`,
    ...(tdnf ? [req.releasever] : []),
    tdnf ? "--config" : `--config=${req.configFile}`,
    ...(tdnf ? [req.configFile] : []),
    // A command-line cachedir is taken relative to the host, not the install root.
    `--setopt=cachedir=${req.cacheDir}`,
  ];
  // dnf's repo_gpgcheck is built in, so host plugins are kept out; tdnf checks repository
  // signatures through its repogpgcheck plugin, so its plugins stay on.
  if (tdnf) args.push("--nodocs");
  else args.push("--noplugins");
  if (req.repos?.length) {
    args.push("--disablerepo=*", ...req.repos.map((r) => `--enablerepo=${r}`));
  }
  args.push("install", ...req.packages);
  return args;
}

/** Runs the install; `home` holds the .rpmmacros that set the database path and nodocs. */
export async function install(
  req: InstallRequest,
  home: string,
  options: RunOptions = {},
): Promise<ToolResult> {
  try {
    return await runTool(
      req.manager,
      "install Azure Linux packages into the root filesystem",
      installArgs(req),
      { ...options, env: { ...options.env, HOME: home, LC_ALL: "C" } },
    );
  } finally {
    await stopKeyringAgents(req.cacheDir);
  }
}

/**
 * Checking repository signatures, librepo keeps each repository's keys in a GnuPG home of its
 * own (<cachedir>/<repo>/pubring), and gpg starts a gpg-agent daemon there that outlives dnf.
 * A build must not leave daemons behind: stop them.
 */
export async function stopKeyringAgents(cacheDir: string): Promise<void> {
  if (!findTool("gpgconf")) return;
  const repos = existsSync(cacheDir) ? readdirSync(cacheDir) : [];
  for (const home of repos
    .map((repo) => join(cacheDir, repo, "pubring"))
    .filter((home) => existsSync(home))) {
    await killAgent(home);
  }
}

/** rpm macros for the install: the database where Azure Linux keeps it, no docs, no locales. */
export const rpmMacros =
  ["%_dbpath /var/lib/rpm", "%_excludedocs 1", "%_install_langs C:en_US"].join("\n") + "\n";
