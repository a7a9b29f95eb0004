// rpm: queries the package database of a root filesystem (for the SBOM).
import { runTool, type ToolResult } from "./run.js";

export const RPM_QUERY_FORMAT =
  "%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{LICENSE}\\t%{VENDOR}\\n";

export function queryInstalled(root: string, dbpath = "/var/lib/rpm"): Promise<ToolResult> {
  return runTool("rpm", "list the packages installed in the root", [
    "--root",
    root,
    "--dbpath",
    dbpath,
    "-qa",
    "--qf",
    RPM_QUERY_FORMAT,
  ]);
}

/** The files the named packages installed in the root (rpm -ql), one path per line. */
export function listFiles(
  root: string,
  packages: readonly string[],
  dbpath = "/var/lib/rpm",
): Promise<ToolResult> {
  return runTool("rpm", "list the files of packages in the root", [
    "--root",
    root,
    "--dbpath",
    dbpath,
    "-ql",
    ...packages,
  ]);
}

export interface RpmRecord {
  name: string;
  epoch?: string;
  version: string;
  release: string;
  arch: string;
  license?: string;
  vendor?: string;
}

export function parseQuery(stdout: string): RpmRecord[] {
  const none = (v: string | undefined) => (v === undefined || v === "(none)" || v === "" ? undefined : v);
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [name = "", epoch, version = "", release = "", arch = "", license, vendor] = line.split("\t");
      return {
        name,
        epoch: none(epoch),
        version,
        release,
        arch,
        license: none(license),
        vendor: none(vendor),
      };
    });
}
