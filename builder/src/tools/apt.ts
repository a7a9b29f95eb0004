// apt-get and apt-cache on a private state directory: kata-build keeps the Debian package lists
// in its cache (not the host's /var/lib/apt), refreshes them with `apt-get update` (conditional
// requests: an unchanged archive costs three small GETs) and asks `apt-cache policy` which
// versions a bootstrap would install now. The host's apt configuration, sources and pins are
// kept out; the archive keys are the host's (/etc/apt/trusted.gpg.d, as mmdebstrap uses them).
import { type RunOptions, runTool, type ToolResult } from "./run.js";

export interface AptState {
  /** Directory holding lists/, cache/, etc/ and the status file. */
  dir: string;
  /** sources.list lines ("deb URL SUITE COMPONENTS"). */
  sources: readonly string[];
  /** dpkg architecture, e.g. amd64. */
  arch: string;
}

export const aptPaths = (dir: string) => ({
  config: `${dir}/apt.conf`,
  lists: `${dir}/lists`,
  cache: `${dir}/cache`,
  etc: `${dir}/etc`,
  status: `${dir}/status`,
  sourcesList: `${dir}/etc/sources.list`,
});

const quote = (s: string) => `"${s.replace(/["\\]/g, "")}"`;

/** The apt.conf given through APT_CONFIG: every directory apt reads or writes is ours. */
export function aptConfig(state: AptState): string {
  const p = aptPaths(state.dir);
  const lines = [
    `Dir::State ${quote(state.dir)};`,
    `Dir::State::Lists ${quote(p.lists)};`,
    `Dir::State::status ${quote(p.status)};`,
    `Dir::Cache ${quote(p.cache)};`,
    `Dir::Cache::srcpkgcache "";`,
    `Dir::Etc::main "/dev/null";`,
    `Dir::Etc::Parts ${quote(`${p.etc}/apt.conf.d`)};`,
    `Dir::Etc::SourceList ${quote(p.sourcesList)};`,
    `Dir::Etc::SourceParts ${quote(`${p.etc}/sources.list.d`)};`,
    `Dir::Etc::Preferences ${quote(`${p.etc}/preferences`)};`,
    `Dir::Etc::PreferencesParts ${quote(`${p.etc}/preferences.d`)};`,
    `APT::Architecture ${quote(state.arch)};`,
    `APT::Architectures { ${quote(state.arch)}; };`,
    // Running as root with the lists in root's cache: no privilege drop to _apt.
    `APT::Sandbox::User "root";`,
    `Acquire::Languages "none";`,
    `Acquire::Retries "3";`,
    `Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";`,
    "",
  ];
  return lines.join("\n");
}

export function update(configFile: string, options: RunOptions = {}): Promise<ToolResult> {
  return runTool("apt-get", "refresh the cached Debian package lists", ["-q", "update"], {
    ...options,
    env: { ...options.env, APT_CONFIG: configFile, LC_ALL: "C" },
  });
}

export function policy(
  configFile: string,
  names: readonly string[],
  options: RunOptions = {},
): Promise<ToolResult> {
  return runTool("apt-cache", "look up the candidate versions of Debian packages", ["policy", ...names], {
    ...options,
    env: { ...options.env, APT_CONFIG: configFile, LC_ALL: "C" },
  });
}

/** `apt-cache policy` output -> package name -> candidate version (undefined: "(none)"). */
export function parsePolicy(stdout: string): Map<string, string | undefined> {
  const result = new Map<string, string | undefined>();
  let current: string | undefined;
  for (const line of stdout.split("\n")) {
    const head = /^(\S+):$/.exec(line);
    if (head) {
      current = head[1]!.replace(/:[a-z0-9]+$/, "");
      result.set(current, undefined);
      continue;
    }
    const candidate = /^\s+Candidate:\s+(\S+)/.exec(line);
    if (candidate && current !== undefined) {
      result.set(current, candidate[1] === "(none)" ? undefined : candidate[1]);
    }
  }
  return result;
}

/**
 * Names of the packages a Debian bootstrap starts from in a Packages index: Essential: yes
 * (mmdebstrap's essential variant) and Priority: required (minbase and required variants).
 */
export function seedPackages(index: string): string[] {
  const names = new Set<string>();
  for (const marker of ["\nEssential: yes\n", "\nPriority: required\n"]) {
    let at = index.indexOf(marker);
    while (at >= 0) {
      const start = index.lastIndexOf("\n\n", at) + 1;
      const stanza = index.slice(start, at + 1);
      const name = /(?:^|\n)Package: (\S+)/.exec(stanza)?.[1];
      if (name) names.add(name);
      at = index.indexOf(marker, at + marker.length - 1);
    }
  }
  return [...names].sort();
}
