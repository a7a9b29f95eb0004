// mmdebstrap: bootstraps a Debian root filesystem. The package cache trick is the one the
// mmdebstrap manual describes: keep downloaded .debs (download/empty skipped), copy the cache
// in before and out after. The package lists kata-build keeps (distro/debian-metadata.ts) are
// copied in too and apt's update is skipped, so no build fetches lists it was not asked to.
import { type RunOptions, runTool, type ToolResult } from "./run.js";

export interface BootstrapRequest {
  suite: string;
  target: string;
  variant: string;
  include: readonly string[];
  /** Mirror URLs or full "deb ..." lines. */
  mirrors: readonly string[];
  /** Directory of cached .deb files shared between builds. */
  cacheDir: string;
  /** dpkg path-exclude patterns (docs, man pages, locales). */
  excludes: readonly string[];
  arch?: string;
  /** mmdebstrap hook directories (e.g. its merged-usr hook). */
  hookDirs?: readonly string[];
  /** Package lists to start from (a copy of an apt lists directory). */
  listsDir?: string;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function bootstrapArgs(req: BootstrapRequest): string[] {
  const args = [
    "--mode=root",
    `--variant=${req.variant}`,
    "--format=directory",
    ...(req.arch ? [`--architectures=${req.arch}`] : []),
    ...(req.include.length ? [`--include=${req.include.join(",")}`] : []),
    '--aptopt=APT::Install-Recommends "false"',
    '--aptopt=Acquire::Retries "3"',
    ...req.excludes.map((p) => `--dpkgopt=path-exclude=${p}`),
    ...(req.hookDirs ?? []).map((d) => `--hook-dir=${d}`),
    "--skip=download/empty",
    "--skip=essential/unlink",
    `--setup-hook=mkdir -p "$1"/var/cache/apt/archives/ && mkdir -p ${q(req.cacheDir)}`,
    `--setup-hook=sync-in ${q(req.cacheDir)} /var/cache/apt/archives/`,
    // The lists are fresh (kata-build refreshed them, or they are younger than its limit), so
    // apt's update is skipped: the bootstrap installs exactly what those lists name.
    ...(req.listsDir ? [`--setup-hook=sync-in ${q(req.listsDir)} /var/lib/apt/lists/`, "--skip=update"] : []),
    `--customize-hook=sync-out /var/cache/apt/archives ${q(req.cacheDir)}`,
    req.suite,
    req.target,
    ...req.mirrors,
  ];
  return args;
}

/** "1.3.5" from `mmdebstrap --version` (part of the base-tree cache key). */
export async function version(options: RunOptions = {}): Promise<string> {
  const result = await runTool("mmdebstrap", "bootstrap the Debian root filesystem", ["--version"], options);
  return /(\d+(?:\.\d+)+)/.exec(result.stdout)?.[1] ?? "unknown";
}

export function bootstrap(req: BootstrapRequest, options: RunOptions = {}): Promise<ToolResult> {
  return runTool("mmdebstrap", "bootstrap the Debian root filesystem", bootstrapArgs(req), options);
}
