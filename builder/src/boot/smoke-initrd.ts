// The smallest initrd that proves a kernel boots into userspace: static busybox, /dev/console,
// and an /init that reports the kernel release and the cgroup2 controllers, prints a marker and
// powers off (which ends QEMU only when ACPI works). Written as cpio newc + gzip, the format the
// kernel must accept (RD_GZIP).
import { readFile, stat, writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { type CpioEntry, writeCpio } from "../formats/cpio.js";
import { requireTool } from "../util/host-tools.js";

export const SMOKE_MARKER = "KATA-KERNEL-SMOKE-MARKER";

const INIT = `#!/bin/busybox sh
bb=/bin/busybox
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
$bb mount -t cgroup2 cgroup2 /sys/fs/cgroup && echo "KATA-SMOKE cgroup2: $($bb cat /sys/fs/cgroup/cgroup.controllers)"
echo "KATA-SMOKE release: $($bb uname -r)"
echo "${SMOKE_MARKER} uptime=$($bb cut -d' ' -f1 /proc/uptime)"
$bb poweroff -f
`;

/** Writes the smoke-test initrd to `path` and returns its size. */
export async function writeSmokeInitrd(path: string): Promise<number> {
  const busybox = requireTool("busybox", "build the smoke-test initrd");
  const busyboxBytes = await readFile(busybox);
  const init = Buffer.from(INIT);
  const base = { uid: 0, gid: 0, mtime: 0 };
  const entries: CpioEntry[] = [
    { ...base, name: ".", kind: "dir", perm: 0o755 },
    { ...base, name: "bin", kind: "dir", perm: 0o755 },
    { ...base, name: "bin/busybox", kind: "file", perm: 0o755, size: busyboxBytes.length },
    { ...base, name: "bin/sh", kind: "symlink", perm: 0o777, link: "busybox" },
    { ...base, name: "dev", kind: "dir", perm: 0o755 },
    { ...base, name: "dev/console", kind: "char", perm: 0o600, rdevMajor: 5, rdevMinor: 1 },
    { ...base, name: "init", kind: "file", perm: 0o755, size: init.length },
    { ...base, name: "proc", kind: "dir", perm: 0o755 },
    { ...base, name: "sys", kind: "dir", perm: 0o755 },
  ];
  const contents: Record<string, Buffer> = { "bin/busybox": busyboxBytes, init };
  const chunks: Buffer[] = [];
  for await (const chunk of writeCpio(entries, async function* (entry) {
    yield contents[entry.name]!;
  })) {
    chunks.push(chunk);
  }
  await writeFile(path, gzipSync(Buffer.concat(chunks), { level: 9 }));
  return (await stat(path)).size;
}
