// Stage: lay rootfs/common/ (and rootfs/<distro>/files/ when present) into the root. Top-level
// files of common/ are lists for the builder, not content; systemd files are laid only when
// systemd is the init; tmp.mount is left to configure-init.
import { chmod, copyFile, lstat, mkdir, readdir, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { With } from "../context.js";
import type { InitMode } from "../distro/types.js";
import { hostPath } from "../util/in-root.js";

const SYSTEMD_ONLY = ["usr/lib/systemd", "etc/systemd"];
const DEFERRED = new Set(["etc/systemd/system/tmp.mount"]);

async function overlay(from: string, root: string, init: InitMode, rel = ""): Promise<number> {
  let count = 0;
  for (const name of (await readdir(join(from, rel))).sort()) {
    const sub = rel ? `${rel}/${name}` : name;
    const st = await lstat(join(from, sub));
    if (!rel && !st.isDirectory()) continue;
    if (DEFERRED.has(sub)) continue;
    if (init === "agent" && SYSTEMD_ONLY.some((p) => sub === p || sub.startsWith(`${p}/`))) continue;
    const dest = await hostPath(root, `/${sub}`);
    if (st.isDirectory()) {
      await mkdir(dest, { recursive: true });
      count += await overlay(from, root, init, sub);
    } else {
      await rm(dest, { force: true });
      if (st.isSymbolicLink()) await symlink(await readlink(join(from, sub)), dest);
      else {
        await copyFile(join(from, sub), dest);
        await chmod(dest, st.mode & 0o111 ? 0o755 : 0o644);
      }
      count++;
    }
  }
  return count;
}

export async function installFiles(ctx: With<"data" | "root" | "distro" | "init">): Promise<void> {
  const { root, init } = ctx;
  let count = await overlay(join(ctx.data, "common"), root, init);
  const distroFiles = join(ctx.data, ctx.distro.name, "files");
  if (await lstat(distroFiles).catch(() => undefined)) count += await overlay(distroFiles, root, init);
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
