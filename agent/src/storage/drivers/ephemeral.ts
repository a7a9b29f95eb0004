// ephemeral: memory-backed volumes the sandbox owns (emptyDir medium=Memory, the pod's /dev/shm,
// hugepages). tmpfs honours its mount options (mode=1777, size=..., noexec...), where upstream
// drops them until UpdateEphemeralMounts; "fsgid=<gid>" is the agent's own option: the mount point
// gets that group and the setgid bit. hugetlbfs first reserves pagesize/size worth of huge pages.
// The volume lives as long as the sandbox, so a restarted container finds its data.
import { chmod, chown, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  InvalidInputError,
  PreconditionError,
  ResourceExhaustedError,
  RuntimeFailure,
} from "../../core/domain-error.js";
import { message, mountStorage } from "../common.js";
import type { StorageContext, StorageResult, StorageSpec } from "../handler.js";
import { optionValues, withoutOptions } from "../mount-options.js";

export const driverTypes = ["ephemeral"] as const;

const SETGID = 0o2000;

export async function add(storage: StorageSpec, ctx: StorageContext): Promise<StorageResult> {
  const fsgid = parseFsgid(storage);
  const options = withoutOptions(storage.options, (o) => o.startsWith("fsgid="));
  const fstype = storage.fstype || "tmpfs";
  if (fstype === "hugetlbfs") await allocateHugepages(ctx, options);
  const result = await mountStorage(storage, ctx, { fstype, options });
  if (fsgid !== undefined) {
    try {
      await chown(storage.mountPoint, -1, fsgid);
      await chmod(storage.mountPoint, ((await stat(storage.mountPoint)).mode & 0o7777) | SETGID);
    } catch (err) {
      await result.cleanup();
      throw new RuntimeFailure(
        `storage driver "ephemeral": fsgid ${fsgid} on ${storage.mountPoint}: ${message(err)}`,
      );
    }
  }
  return { ...result, sandboxLifetime: true };
}

export function parseFsgid(storage: Pick<StorageSpec, "options" | "driver">): number | undefined {
  const raw = optionValues(storage.options).get("fsgid");
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) {
    throw new InvalidInputError(`storage driver "${storage.driver}": fsgid=${raw} is not a group id`);
  }
  return Number(raw);
}

/** Bytes from "2097152", "2048k", "2M", "1G". */
function parseBytes(text: string): number | undefined {
  const m = /^(\d+)([kKmMgG]?)$/.exec(text);
  if (!m) return undefined;
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase()]!;
  return Number(m[1]) * unit;
}

/** Reserves size/pagesize more huge pages in /sys/kernel/mm/hugepages/hugepages-<kB>kB. */
export async function allocateHugepages(
  ctx: Pick<StorageContext, "sysfsRoot" | "log">,
  options: readonly string[],
): Promise<number> {
  const values = optionValues(options);
  const pagesize = parseBytes(values.get("pagesize") ?? "");
  const size = parseBytes(values.get("size") ?? "");
  if (!pagesize || size === undefined) {
    throw new InvalidInputError(
      `storage driver "ephemeral": hugetlbfs needs pagesize= and size= options in bytes, got ${JSON.stringify(options)}`,
    );
  }
  const file = join(
    ctx.sysfsRoot,
    "kernel",
    "mm",
    "hugepages",
    `hugepages-${pagesize / 1024}kB`,
    "nr_hugepages",
  );
  const wanted = Math.ceil(size / pagesize);
  let current: number;
  try {
    current = Number((await readFile(file, "utf8")).trim());
  } catch (err) {
    throw new PreconditionError(
      `storage driver "ephemeral": the guest kernel offers no ${pagesize}-byte huge pages (${file}: ${message(err)})`,
    );
  }
  const target = current + wanted;
  ctx.log.info("reserving huge pages", { file, pagesize, pages: wanted, total: target });
  await writeFile(file, String(target));
  const got = Number((await readFile(file, "utf8")).trim());
  if (got < target) {
    throw new ResourceExhaustedError(
      `storage driver "ephemeral": asked the kernel for ${target} huge pages of ${pagesize} bytes (${wanted} for this volume) but it allocated ${got}`,
    );
  }
  return wanted;
}
