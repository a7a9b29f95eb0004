// umount -l: lazily detaches a mount point. Synchronous, because the interrupt handler that
// needs it runs while the process is about to exit.
import { execFileSync } from "node:child_process";

/** Detaches `point`; false when it could not (not ours to unmount, or already gone). */
export function detachSync(point: string): boolean {
  try {
    execFileSync("umount", ["-l", point], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
