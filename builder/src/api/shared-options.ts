// Options several commands take, defined once so that they read and behave alike everywhere.
import type { OptionSpec } from "../util/options.js";
import { defaultCacheDir } from "../util/paths.js";

export const cacheOption = {
  kind: "string",
  arg: "DIR",
  path: true,
  help: "cache shared by every command: packages, kernels, guests (default: $KATA_BUILD_CACHE or ~/.cache/kata-build)",
} as const satisfies OptionSpec<"string">;

/** The cache directory a resolved --cache value names. */
export function cacheDirOf(value: string | undefined): string {
  return value ?? defaultCacheDir();
}

export function outOption<const D extends string>(defaultDir: D) {
  return {
    kind: "string",
    short: "o",
    arg: "DIR",
    default: defaultDir,
    path: true,
    help: "output directory",
  } as const satisfies OptionSpec<"string">;
}

/** The root filesystem that `image` and `initrd` pack. */
export const rootfsInputOption = {
  kind: "string",
  arg: "DIR|TAR",
  default: "out/rootfs",
  path: true,
  help: "root filesystem tree or tarball",
} as const satisfies OptionSpec<"string">;
