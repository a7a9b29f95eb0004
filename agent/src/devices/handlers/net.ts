// A hot-plugged NIC by PCI path: UpdateInterface may name the device the VMM plugged ("02/00")
// and arrive before the guest kernel has probed it. The NIC is found as the /sys/class/net entry
// whose link resolves under the PCI device's directory.
import { realpath } from "node:fs/promises";
import { join } from "node:path";
import type { DeviceContext } from "../context.js";
import { type PciPath, pciDeviceDir, rootBusDir } from "../pci-path.js";
import { listMatching } from "../sysfs.js";
import { waitFor } from "../wait.js";
import { pciRescan } from "./rescan.js";

/** Resolves with the interface name ("eth1") once the NIC at `path` exists. */
export async function findPciNic(ctx: DeviceContext, path: PciPath): Promise<string> {
  // Links resolve to real paths; compare against the real sysfs root (tests use a temp dir).
  const sysfs = await realpath(ctx.roots.sysfs).catch(() => ctx.roots.sysfs);
  const classNet = join(sysfs, "class", "net");
  let lookedAt = rootBusDir(sysfs, path);
  const probe = async (): Promise<string | undefined> => {
    const found = await pciDeviceDir(sysfs, path);
    if ("missing" in found) {
      lookedAt = found.missing;
      return undefined;
    }
    lookedAt = `${classNet}/* linked under ${found.dir}`;
    for (const name of await listMatching(classNet, /./)) {
      const target = await realpath(join(classNet, name)).catch(() => "");
      if (target.startsWith(`${found.dir}/`)) return name;
    }
    return undefined;
  };
  const name = await waitFor(probe, {
    get what() {
      return `the network device at PCI path ${path.text} (looked for ${lookedAt})`;
    },
    timeoutMs: ctx.timeoutMs,
    signal: ctx.signal,
    intervalMs: ctx.pollMs,
    nudge: { afterMs: Math.min(1000, ctx.timeoutMs / 2), run: () => pciRescan(ctx) },
  });
  ctx.log.debug("hot-plugged NIC present", { pciPath: path.text, link: name });
  return name;
}
