// initrd(): a compressed cpio newc archive of a root filesystem, as `kata-build initrd` makes it.
import { join } from "node:path";
import { sourceDateEpoch } from "../context.js";
import { buildInitrd, type Compression, defaultCompression, defaultLevel } from "../pipelines/initrd.js";
import type { Given, OptionTable } from "../util/options.js";
import { resolveOptions } from "../util/options.js";
import { type BuildHooks, progressOf } from "./hooks.js";
import { outOption, rootfsInputOption } from "./shared-options.js";

export const initrdOptions = {
  rootfs: rootfsInputOption,
  out: outOption("out"),
  name: { kind: "string", arg: "FILE", default: "kata-containers-initrd.img", help: "initrd file name" },
  compression: {
    kind: "string",
    arg: "KIND",
    choices: ["zstd", "gzip", "none"],
    default: defaultCompression,
    help: "compression",
  },
  level: {
    kind: "number",
    arg: "N",
    help: `compression level (default: zstd ${defaultLevel.zstd}, gzip ${defaultLevel.gzip})`,
  },
} as const satisfies OptionTable;

export type InitrdOptions = Given<typeof initrdOptions>;
export { defaultLevel } from "../pipelines/initrd.js";

export interface InitrdResult {
  initrd: string;
  manifest: string;
  /** sha256 of the input tree's content (paths, modes, owners, file bytes, links). */
  inputTreeSha256?: string;
  artifacts: string[];
}

export async function initrd(options: InitrdOptions = {}, hooks: BuildHooks = {}): Promise<InitrdResult> {
  const o = resolveOptions(initrdOptions, options);
  const result = await buildInitrd(
    {
      rootfs: o.rootfs,
      out: o.out,
      name: o.name,
      compression: o.compression as Compression,
      level: o.level,
      epoch: sourceDateEpoch(),
    },
    progressOf(hooks),
  );
  const at = (name: string) => join(o.out, name);
  const tree = (result.manifest.input as { treeSha256?: string } | undefined)?.treeSha256;
  return {
    initrd: at(o.name),
    manifest: at(`${o.name}.manifest.json`),
    ...(tree ? { inputTreeSha256: tree } : {}),
    artifacts: result.artifacts.map(at),
  };
}
