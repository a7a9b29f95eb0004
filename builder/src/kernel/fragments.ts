// Which fragment files make up a kernel, in merge order (later wins):
//   common/*.conf → <arch>/*.conf → <hypervisor>/*.conf → features/<name>.conf (in the order
//   given) → extra fragment files from the command line.
// A file with an `# arch: ...` directive is used only for the architectures it names. Every
// fragment must open with a comment saying why it exists.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import { BuildError } from "../util/errors.js";
import { ConfigSyntaxError, parseConfig } from "./kconfig/config-file.js";
import type { Fragment } from "./kconfig/merge.js";
import type { Arch, Hypervisor } from "./request.js";

export interface FragmentFile extends Fragment {
  path: string;
  sha256: string;
}

export interface FragmentSelection {
  arch: Arch;
  hypervisor: Hypervisor;
  features: readonly string[];
  /** Extra fragment files, applied last. */
  extra: readonly string[];
}

async function confFiles(dir: string): Promise<string[]> {
  try {
    const names = await readdir(dir);
    return names
      .filter((n) => n.endsWith(".conf"))
      .sort()
      .map((n) => join(dir, n));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

export async function loadFragment(
  path: string,
  name: string,
): Promise<FragmentFile & { arches?: string[] }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message;
    throw new BuildError(
      `cannot read the kernel config fragment ${name}: ${why}`,
      "check the path given with --fragment",
    );
  }
  let parsed: ReturnType<typeof parseConfig>;
  try {
    parsed = parseConfig(text, name, true);
  } catch (err) {
    if (err instanceof ConfigSyntaxError) throw new BuildError(`bad kernel config fragment: ${err.message}`);
    throw err;
  }
  if (!parsed.header) {
    throw new BuildError(
      `kernel config fragment ${name} does not start with a comment saying why it exists`,
      "add a leading '# ...' comment that names what needs these options",
    );
  }
  return {
    name,
    path,
    entries: parsed.entries,
    sha256: createHash("sha256").update(text).digest("hex"),
    ...(parsed.directives.arch ? { arches: parsed.directives.arch } : {}),
  };
}

/** Names of the features available in a data directory (`features/<name>.conf`). */
export async function availableFeatures(dataDir: string): Promise<string[]> {
  return (await confFiles(join(dataDir, "fragments", "features"))).map((p) => basename(p, ".conf"));
}

export async function selectFragments(
  dataDir: string,
  selection: FragmentSelection,
): Promise<FragmentFile[]> {
  const root = join(dataDir, "fragments");
  const features = await availableFeatures(dataDir);
  for (const feature of selection.features) {
    if (!features.includes(feature)) {
      throw new BuildError(
        `unknown kernel feature '${feature}'`,
        `available features: ${features.join(", ")} (files in ${join(root, "features")})`,
      );
    }
  }
  const paths = [
    ...(await confFiles(join(root, "common"))),
    ...(await confFiles(join(root, selection.arch))),
    ...(await confFiles(join(root, selection.hypervisor))),
    ...selection.features.map((f) => join(root, "features", `${f}.conf`)),
  ];
  const chosen: FragmentFile[] = [];
  for (const path of paths) {
    const fragment = await loadFragment(path, relative(root, path));
    if (fragment.arches && !fragment.arches.includes(selection.arch)) continue;
    const { arches: _arches, ...rest } = fragment;
    chosen.push(rest);
  }
  for (const path of selection.extra) {
    const { arches: _arches, ...rest } = await loadFragment(path, path);
    chosen.push(rest);
  }
  return chosen;
}

/** One hash over the fragment list (names and contents), for manifests. */
export function fragmentsHash(fragments: readonly FragmentFile[]): string {
  const hash = createHash("sha256");
  for (const f of fragments) hash.update(`${f.name}\0${f.sha256}\n`);
  return hash.digest("hex");
}
