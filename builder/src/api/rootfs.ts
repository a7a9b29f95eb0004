// rootfs(): the guest's root filesystem with the Node.js agent, as `kata-build rootfs` builds it.
import { join, resolve } from "node:path";
import { UsageError } from "../../../agent/src/cli/index.js";
import { sourceDateEpoch } from "../context.js";
import { distroNames } from "../distro/index.js";
import { buildRootfs } from "../pipelines/rootfs.js";
import type { Given, OptionTable } from "../util/options.js";
import { resolveOptions } from "../util/options.js";
import { dataDir, defaultAgentDir } from "../util/paths.js";
import { type BuildHooks, progressOf } from "./hooks.js";
import { cacheDirOf, cacheOption, outOption } from "./shared-options.js";

export const rootfsOptions = {
  distro: {
    kind: "string",
    arg: "NAME",
    choices: distroNames,
    default: "azurelinux",
    help: "distribution",
  },
  out: outOption("out"),
  name: {
    kind: "string",
    arg: "NAME",
    default: "rootfs",
    help: "name of the tree and prefix of its files",
  },
  agentInit: { kind: "boolean", help: "make the agent /sbin/init (no systemd at all)" },
  agent: {
    kind: "string",
    arg: "DIR",
    path: true,
    help: "agent build outputs (default: this toolkit's agent/ directory)",
  },
  mirror: { kind: "string", arg: "URL|DIR", help: "use this repository instead of the official ones" },
  gpgKey: {
    kind: "string",
    arg: "FILE",
    path: true,
    help: "signing key of the packages (Azure Linux; default: the Microsoft key)",
  },
  repoGpgcheck: {
    kind: "string",
    arg: "on|off",
    choices: ["on", "off"],
    default: "on",
    help: "check repository metadata signatures (Azure Linux)",
  },
  variant: {
    kind: "string",
    arg: "NAME",
    choices: ["essential", "minbase", "required"],
    help: "mmdebstrap variant (Debian; default from rootfs/debian/distro.toml)",
  },
  cache: cacheOption,
  refresh: {
    kind: "boolean",
    help: "refresh package lists now and install afresh (Debian: no cached base tree)",
  },
  fromTar: {
    kind: "string",
    arg: "FILE",
    path: true,
    help: "start from this root filesystem tarball instead of packages",
  },
  tar: { kind: "boolean", help: "also write NAME.tar (sorted, fixed mtimes, numeric owners)" },
  keepPackageDb: { kind: "boolean", help: "keep the rpm/dpkg database in the root" },
  package: { kind: "strings", arg: "PKG", help: "install an extra package (repeatable)" },
  snapshot: {
    kind: "boolean",
    help: "make the agent's start-up snapshot with the guest's node (it starts the agent several times faster under emulation; needs root; the tree is then not bit-identical between builds)",
  },
  keep: {
    kind: "strings",
    arg: "PATH",
    help: "with --agent-init, keep this path (and what it needs to run) besides what the agent runs (repeatable)",
  },
  node: {
    kind: "string",
    arg: "FILE",
    path: true,
    help: "install this Node.js binary as /usr/bin/node instead of the distribution's nodejs (e.g. an official build: it starts faster)",
  },
  data: {
    kind: "string",
    arg: "DIR",
    path: true,
    help: "the rootfs/ data directory (default: this toolkit's)",
  },
  policy: {
    kind: "string",
    arg: "FILE",
    path: true,
    help: "agent policy (kata-rules/1, .json or .toml) the agent loads at start",
  },
  hooks: {
    kind: "string",
    arg: "DIR",
    path: true,
    help: "OCI hooks for the agent to run in the guest: DIR/prestart/, poststart/, poststop/",
  },
  addFile: {
    kind: "strings",
    arg: "SRC:DEST",
    help: "copy a host file or directory (SRC, from the working directory) to DEST in the guest (repeatable)",
  },
  overlay: { kind: "strings", arg: "DIR", path: true, help: "lay a tree onto the guest's / (repeatable)" },
} as const satisfies OptionTable;

export type RootfsOptions = Given<typeof rootfsOptions>;

export interface RootfsResult {
  /** The root filesystem tree. */
  root: string;
  /** Its manifest (NAME.manifest.json) and SPDX SBOM (NAME.spdx.json). */
  manifest: string;
  sbom: string;
  /** NAME.tar, with `tar`. */
  tar?: string;
  /** Every output, as absolute paths. */
  artifacts: string[];
}

export async function rootfs(options: RootfsOptions = {}, hooks: BuildHooks = {}): Promise<RootfsResult> {
  const o = resolveOptions(rootfsOptions, options);
  const result = await buildRootfs(
    {
      distro: o.distro,
      init: o.agentInit ? "agent" : "systemd",
      out: o.out,
      name: o.name,
      data: o.data ?? dataDir(),
      cache: cacheDirOf(o.cache),
      agentDir: o.agent ?? defaultAgentDir(),
      mirror: o.mirror,
      gpgKey: o.gpgKey,
      repoGpgcheck: o.repoGpgcheck === "on",
      variant: o.variant,
      fromTar: o.fromTar,
      tar: o.tar === true,
      keepPackageDb: o.keepPackageDb === true,
      extraPackages: o.package ?? [],
      keep: o.keep ?? [],
      snapshot: o.snapshot === true,
      node: o.node,
      epoch: sourceDateEpoch(),
      refresh: o.refresh === true,
      extras: {
        ...(o.policy ? { policy: o.policy } : {}),
        ...(o.hooks ? { hooks: o.hooks } : {}),
        files: (o.addFile ?? []).map(parseAddFile),
        overlays: o.overlay ?? [],
      },
    },
    progressOf(hooks),
  );
  const at = (name: string) => join(o.out, name);
  return {
    root: at(o.name),
    manifest: at(`${o.name}.manifest.json`),
    sbom: at(`${o.name}.spdx.json`),
    ...(o.tar ? { tar: at(`${o.name}.tar`) } : {}),
    artifacts: result.artifacts.map(at),
  };
}

/** --add-file SRC:DEST, DEST an absolute path in the guest. */
function parseAddFile(value: string): { source: string; dest: string } {
  const colon = value.lastIndexOf(":");
  const source = value.slice(0, colon);
  const dest = value.slice(colon + 1);
  if (colon <= 0 || !dest.startsWith("/")) {
    throw new UsageError(
      `--add-file: '${value}' is not SRC:DEST with DEST an absolute path in the guest (e.g. ./motd:/etc/motd)`,
    );
  }
  return { source: resolve(source), dest };
}
