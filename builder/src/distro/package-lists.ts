// Package lists are data: rootfs/<distro>/packages.txt plus packages-<mode>.txt.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "smol-toml";
import { BuildError } from "../util/errors.js";
import type { InitMode } from "./types.js";

export function parseList(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter(Boolean);
}

async function readList(path: string, required: boolean): Promise<string[]> {
  try {
    return parseList(await readFile(path, "utf8"));
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new BuildError(`cannot read package list ${path}: ${(err as Error).message}`);
  }
}

/** The packages for `distro` in `mode`, plus extras, minus `omit`, without duplicates, in list order. */
export async function packagesFor(
  data: string,
  distro: string,
  mode: InitMode,
  extra: readonly string[] = [],
  omit: readonly string[] = [],
): Promise<{ packages: string[]; lists: string[] }> {
  const base = join(data, distro, "packages.txt");
  const modeList = join(data, distro, `packages-${mode}.txt`);
  const all = [...(await readList(base, true)), ...(await readList(modeList, false)), ...extra];
  return { packages: [...new Set(all)].filter((p) => !omit.includes(p)), lists: [base, modeList] };
}

/** The distribution's nodejs package, and what a Node.js given with --node needs instead. */
export const NODE_PACKAGE = "nodejs";

/** rootfs/<distro>/packages-node.txt: the libraries an official Node.js build links against. */
export function nodeLibraryPackages(data: string, distro: string): Promise<string[]> {
  return readList(join(data, distro, "packages-node.txt"), true);
}

/** Reads rootfs/<distro>/distro.toml. */
export async function distroConfig(data: string, distro: string): Promise<Record<string, unknown>> {
  const path = join(data, distro, "distro.toml");
  try {
    return parse(await readFile(path, "utf8")) as Record<string, unknown>;
  } catch (err) {
    throw new BuildError(`cannot read ${path}: ${(err as Error).message}`);
  }
}
