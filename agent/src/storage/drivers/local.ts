// local: a plain directory (emptyDir on the guest's disk), nothing mounted. "mode=<octal>" sets
// its permissions; "fsgid=<gid>" its group plus the setgid bit. Kept for the sandbox's lifetime.
import { chmod, chown, mkdir, stat } from "node:fs/promises";
import { InvalidInputError, RuntimeFailure } from "../../core/domain-error.js";
import { checkMountPoint, message } from "../common.js";
import type { StorageContext, StorageResult, StorageSpec } from "../handler.js";
import { optionValues } from "../mount-options.js";
import { parseFsgid } from "./ephemeral.js";

export const driverTypes = ["local"] as const;

const SETGID = 0o2000;

export async function add(storage: StorageSpec, ctx: StorageContext): Promise<StorageResult> {
  checkMountPoint(storage);
  const fsgid = parseFsgid(storage);
  const rawMode = optionValues(storage.options).get("mode");
  if (rawMode !== undefined && !/^[0-7]{1,4}$/.test(rawMode)) {
    throw new InvalidInputError(`storage driver "local": mode=${rawMode} is not an octal mode`);
  }
  const dir = storage.mountPoint;
  try {
    await mkdir(dir, { recursive: true });
    if (fsgid !== undefined) await chown(dir, -1, fsgid);
    if (rawMode !== undefined || fsgid !== undefined) {
      const base = rawMode !== undefined ? Number.parseInt(rawMode, 8) : (await stat(dir)).mode & 0o7777;
      await chmod(dir, fsgid !== undefined ? base | SETGID : base);
    }
  } catch (err) {
    throw new RuntimeFailure(`storage driver "local": preparing ${dir} failed: ${message(err)}`, {
      cause: err,
    });
  }
  ctx.log.debug("local volume ready", { dir, mode: rawMode, fsgid });
  return { path: undefined, cleanup: async () => {}, sandboxLifetime: true };
}
