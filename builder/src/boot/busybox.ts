// A busybox root filesystem for the boot check's containers, from Debian's busybox-static:
// the binary plus relative applet links (absolute ones would point at the host path).
import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { listApplets } from "../tools/busybox.js";
import { requireTool } from "../util/host-tools.js";

export function makeBusyboxRootfs(dir: string): string {
  const busybox = requireTool("busybox", "give the boot check's containers a root filesystem");
  for (const d of ["bin", "proc", "sys", "dev", "tmp", "etc", "root"])
    mkdirSync(path.join(dir, d), { recursive: true });
  copyFileSync(busybox, path.join(dir, "bin/busybox"));
  chmodSync(path.join(dir, "bin/busybox"), 0o755);
  for (const applet of listApplets(busybox)) {
    if (applet !== "busybox") symlinkSync("busybox", path.join(dir, "bin", applet));
  }
  writeFileSync(path.join(dir, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
  writeFileSync(path.join(dir, "etc/group"), "root:x:0:\n");
  // The container shows the guest's os-release through a bind mount onto this file.
  writeFileSync(path.join(dir, "etc/os-release"), "");
  return dir;
}
