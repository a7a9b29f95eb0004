// Stage: make the agent start. systemd mode: units, the target, and a trimmed systemd (units
// removed as osbuilder removes them, more masked: rootfs/common/systemd-{remove,mask}.txt).
// Agent mode: /sbin/init is the agent and no systemd is present at all.
import { chmod, copyFile, lstat, mkdir, readFile, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import type { With } from "../context.js";
import { parseList } from "../distro/package-lists.js";
import { BuildError } from "../util/errors.js";
import { findSystemd, hostPath, resolveInRoot } from "../util/in-root.js";

const exists = (p: string) =>
  lstat(p).then(
    () => true,
    () => false,
  );

async function link(root: string, path: string, target: string): Promise<void> {
  const dest = await hostPath(root, path);
  await mkdir(join(dest, ".."), { recursive: true });
  await rm(dest, { force: true });
  await symlink(target, dest);
}

export async function configureInit(ctx: With<"data" | "root" | "init">): Promise<void> {
  const { data, root } = ctx;
  if (ctx.init === "agent") {
    const systemd = await findSystemd(root);
    if (systemd) {
      throw new BuildError(
        `--agent-init was asked for, but the root holds systemd (${systemd})`,
        "remove systemd from the package list, or build without --agent-init",
      );
    }
    await link(root, "/sbin/init", "/usr/bin/kata-agent");
    ctx.manifest.init = { mode: "agent", init: "/sbin/init -> /usr/bin/kata-agent" };
    return;
  }

  const systemd = await findSystemd(root);
  if (!systemd) throw new BuildError("systemd mode needs systemd in the root, but none was installed");
  if (!(await exists(join(root, await resolveInRoot(root, "/sbin/init"))))) {
    await link(root, "/sbin/init", systemd);
  }
  const units = "/usr/lib/systemd/system";
  await link(
    root,
    "/etc/systemd/system/basic.target.wants/kata-containers.target",
    `${units}/kata-containers.target`,
  );
  if (await exists(join(root, await resolveInRoot(root, `${units}/dbus.socket`)))) {
    await link(root, "/etc/systemd/system/kata-containers.target.wants/dbus.socket", `${units}/dbus.socket`);
  }
  if (!(await exists(join(root, await resolveInRoot(root, `${units}/tmp.mount`))))) {
    const dest = await hostPath(root, "/etc/systemd/system/tmp.mount");
    await copyFile(join(data, "common", "etc", "systemd", "system", "tmp.mount"), dest);
    await chmod(dest, 0o644);
  }
  const removed: string[] = [];
  const list = parseList(await readFile(join(data, "common", "systemd-remove.txt"), "utf8"));
  for (const rel of list) {
    const p = await hostPath(root, `/usr/lib/systemd/${rel}`);
    if (await exists(p)) {
      await rm(p, { force: true });
      removed.push(rel);
    }
  }
  const masked: string[] = [];
  const masks = parseList(await readFile(join(data, "common", "systemd-mask.txt"), "utf8"));
  for (const unit of masks) {
    await link(root, `/etc/systemd/system/${unit}`, "/dev/null");
    masked.push(unit);
  }
  // The agent service runs as root, but unprivileged container processes must be able to
  // traverse the root directory.
  const st = await lstat(root);
  await chmod(root, (st.mode & 0o7777) | 0o051);
  ctx.manifest.init = { mode: "systemd", systemd, removedUnits: removed, maskedUnits: masked };
}
