// Stage: lay rootfs/common/ (and rootfs/<distro>/files/ when present) into the root. Top-level
// files of common/ are lists for the builder, not content; systemd files are laid only when
// systemd is the init; tmp.mount is left to configure-init.
import { chmod, lstat, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { With } from "../context.js";
import type { InitMode } from "../distro/types.js";
import { hostPath, layTree } from "../util/in-root.js";

const SYSTEMD_ONLY = ["usr/lib/systemd", "etc/systemd"];
const DEFERRED = new Set(["etc/systemd/system/tmp.mount"]);

/** The data tree's files: top-level files are lists, and systemd's only go to systemd roots. */
function overlay(from: string, root: string, init: InitMode): Promise<string[]> {
  return layTree(from, root, "/", {
    skip: (rel, isDirectory) =>
      (!rel.includes("/") && !isDirectory) ||
      DEFERRED.has(rel) ||
      (init === "agent" && SYSTEMD_ONLY.some((p) => rel === p || rel.startsWith(`${p}/`))),
    mode: (m) => (m & 0o111 ? 0o755 : 0o644),
  });
}

export async function installFiles(ctx: With<"data" | "root" | "distro" | "init">): Promise<void> {
  const { root, init } = ctx;
  let count = (await overlay(join(ctx.data, "common"), root, init)).length;
  const distroFiles = join(ctx.data, ctx.distro.name, "files");
  if (await lstat(distroFiles).catch(() => undefined))
    count += (await overlay(distroFiles, root, init)).length;
  // The agent bind-mounts the container's resolv.conf over this, so it must be a plain file;
  // systemd bind-mounts a machine id over an empty /etc/machine-id.
  for (const file of ["/etc/resolv.conf", "/etc/machine-id"]) {
    const dest = await hostPath(root, file);
    await mkdir(join(dest, ".."), { recursive: true });
    await rm(dest, { force: true });
    await writeFile(dest, "");
    await chmod(dest, 0o644);
  }
  ctx.manifest.files = { laid: count };
}
