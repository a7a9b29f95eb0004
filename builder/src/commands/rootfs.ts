// kata-build rootfs: the guest's root filesystem with the Node.js agent (the library's rootfs()).
import { rootfs, rootfsOptions } from "../api/rootfs.js";
import { defineCommand } from "./command.js";

export const rootfsCommand = defineCommand({
  name: "rootfs",
  summary: "build a guest root filesystem (Azure Linux or Debian) holding the agent",
  usage: "kata-build rootfs [--distro azurelinux|debian] [--out DIR] [options]",
  description: [
    "Installs a minimal guest into OUT/NAME/: Node.js from the distribution, the agent bundle and",
    "its native addon, crun, runc, iproute and e2fsprogs, plus rootfs/common/. Writes NAME.manifest.json",
    "and an SPDX 2.3 SBOM (NAME.spdx.json: the distribution's packages, the agent and the npm packages",
    "bundled into it) beside it; with --tar also a deterministic NAME.tar. Azure Linux uses tdnf (dnf",
    "where tdnf is absent) with GPG checks against the Microsoft key; Debian uses mmdebstrap. Outputs",
    "appear only when the whole build succeeded.",
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
  options: rootfsOptions,
  configurable: true,
  run: (values, _positionals, { hooks }) => rootfs(values, hooks),
  text: (result) => `${result.artifacts.join("\n")}\n`,
});
