// dpkg and dpkg-query: the host's Debian architecture, and the packages of a Debian root
// filesystem from its dpkg database.
import { type RunOptions, runTool, type ToolResult } from "./run.js";

export function printArchitecture(options: RunOptions = {}): Promise<ToolResult> {
  return runTool("dpkg", "find the host's Debian architecture", ["--print-architecture"], options);
}

export function queryInstalled(root: string): Promise<ToolResult> {
  return runTool("dpkg-query", "list the packages installed in the root", [
    `--admindir=${root}/var/lib/dpkg`,
    "-W",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own field syntax
    "-f=${db:Status-Abbrev}\\t${Package}\\t${Version}\\t${Architecture}\\t${Maintainer}\\n",
  ]);
}

export interface DebRecord {
  name: string;
  version: string;
  arch: string;
  maintainer?: string;
}

export function parseQuery(stdout: string): DebRecord[] {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("ii"))
    .map((line) => {
      const [, name = "", version = "", arch = "", maintainer] = line.split("\t");
      return { name, version, arch, maintainer: maintainer || undefined };
    });
}

/** The files the named packages installed in the root (dpkg-query -L), one path per line. */
export function listFiles(root: string, packages: readonly string[]): Promise<ToolResult> {
  return runTool("dpkg-query", "list the files of packages in the root", [
    `--admindir=${root}/var/lib/dpkg`,
    "-L",
    ...packages,
  ]);
}
