// PATH lookup without spawning a shell.
import { accessSync, constants } from "node:fs";
import { join } from "node:path";

export function findExecutable(name: string, path = process.env.PATH ?? ""): string | undefined {
  for (const dir of [
    ...path.split(":"),
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
  ]) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}
