// kata-build rootfs: the guest's root filesystem with the Node.js agent.
import { resolve } from "node:path";
import { sourceDateEpoch } from "../context.js";
import { distroNames } from "../distro/index.js";
import { buildRootfs } from "../pipelines/rootfs.js";
import { BuildError } from "../util/errors.js";
import { dataDir, defaultAgentDir } from "../util/paths.js";
import { defineCommand } from "./command.js";
import { cacheDirOf, cacheOption, outOption, quietOption } from "./shared-options.js";

export const rootfsCommand = defineCommand({
  name: "rootfs",
  summary: "build a guest root filesystem (Azure Linux or Debian) holding the agent",
  usage: "kata-build rootfs [--distro azurelinux|debian] [--out DIR] [options]",
  description: [
    "Installs a minimal guest into OUT/NAME/: Node.js from the distribution, the agent bundle and",
    "its native addon, crun, runc, iproute and e2fsprogs, plus rootfs/common/. Writes NAME.manifest.json",
    "and an SPDX 2.3 SBOM (NAME.spdx.json) beside it; with --tar also a deterministic NAME.tar.",
    "Azure Linux uses tdnf (dnf where tdnf is absent) with GPG checks against the Microsoft key;",
    "Debian uses mmdebstrap. Outputs appear only when the whole build succeeded.",
    "",
    "What else goes in: --policy FILE (a kata-rules/1 agent policy, JSON or TOML, installed as",
    "/etc/kata-agent/policy.json|toml and loaded by the agent at start: KATA_AGENT_POLICY_FILE in",
    "/etc/kata-agent/environment), --hooks DIR (DIR/{prestart,poststart,poststop}/ executables, into",
    "/usr/share/oci/hooks, the runtime's guest_hook_path), --add-file SRC:DEST and --overlay DIR; all",
    "laid after the build's own stripping and recorded with their digests in the manifest.",
    "",
    "Debian builds keep .debs, the package lists (refreshed when older than 6 hours) and the",
    "bootstrapped base tree in the cache; the tree is reused while every package in it is still",
    "the version the lists name, so a warm build copies it instead of installing. --refresh",
    "refreshes the lists now and bootstraps afresh.",
  ].join("\n"),
  options: {
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
      help: "agent build outputs (default: the repository's agent/ directory)",
    },
    mirror: { kind: "string", arg: "URL|DIR", help: "use this repository instead of the official ones" },
    gpgKey: {
      kind: "string",
      arg: "FILE",
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
      help: "start from this root filesystem tarball instead of packages",
    },
    tar: { kind: "boolean", help: "also write NAME.tar (sorted, fixed mtimes, numeric owners)" },
    keepPackageDb: { kind: "boolean", help: "keep the rpm/dpkg database in the root" },
    package: { kind: "strings", arg: "PKG", help: "install an extra package (repeatable)" },
    node: {
      kind: "string",
      arg: "FILE",
      help: "install this Node.js binary as /usr/bin/node instead of the distribution's nodejs (e.g. an official build: it starts faster)",
    },
    data: { kind: "string", arg: "DIR", help: "the rootfs/ data directory (default: the repository's)" },
    policy: {
      kind: "string",
      arg: "FILE",
      help: "agent policy (kata-rules/1, .json or .toml) the agent loads at start",
    },
    hooks: {
      kind: "string",
      arg: "DIR",
      help: "OCI hooks for the agent to run in the guest: DIR/prestart/, poststart/, poststop/",
    },
    addFile: {
      kind: "strings",
      arg: "SRC:DEST",
      help: "copy a host file or directory to DEST in the guest (repeatable)",
    },
    overlay: { kind: "strings", arg: "DIR", help: "lay a tree onto the guest's / (repeatable)" },
    quiet: quietOption,
  },
  async run(values, _positionals, progress) {
    const result = await buildRootfs(
      {
        distro: values.distro,
        init: values.agentInit ? "agent" : "systemd",
        out: resolve(values.out),
        name: values.name,
        data: values.data ? resolve(values.data) : dataDir(),
        cache: cacheDirOf(values.cache),
        agentDir: values.agent ? resolve(values.agent) : defaultAgentDir(),
        mirror: values.mirror,
        gpgKey: values.gpgKey,
        repoGpgcheck: values.repoGpgcheck === "on",
        variant: values.variant,
        fromTar: values.fromTar ? resolve(values.fromTar) : undefined,
        tar: values.tar === true,
        keepPackageDb: values.keepPackageDb === true,
        extraPackages: values.package ?? [],
        node: values.node ? resolve(values.node) : undefined,
        epoch: sourceDateEpoch(),
        refresh: values.refresh === true,
        extras: {
          ...(values.policy ? { policy: resolve(values.policy) } : {}),
          ...(values.hooks ? { hooks: resolve(values.hooks) } : {}),
          files: (values.addFile ?? []).map(parseAddFile),
          overlays: (values.overlay ?? []).map((d) => resolve(d)),
        },
      },
      progress,
    );
    for (const a of result.artifacts) process.stdout.write(`${resolve(values.out, a)}\n`);
  },
});

/** --add-file SRC:DEST, DEST an absolute path in the guest. */
function parseAddFile(value: string): { source: string; dest: string } {
  const colon = value.lastIndexOf(":");
  const source = value.slice(0, colon);
  const dest = value.slice(colon + 1);
  if (colon <= 0 || !dest.startsWith("/")) {
    throw new BuildError(
      `--add-file: '${value}' is not SRC:DEST with DEST an absolute path in the guest`,
      "e.g. --add-file ./motd:/etc/motd",
    );
  }
  return { source: resolve(source), dest };
}
