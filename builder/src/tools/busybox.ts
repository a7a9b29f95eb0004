// busybox --list: the applets a busybox binary provides (each becomes a link to it).
// Synchronous: the boot check lays out its container root filesystem in one go.
import { execFileSync } from "node:child_process";

export function listApplets(busybox: string): string[] {
  return execFileSync(busybox, ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean);
}
