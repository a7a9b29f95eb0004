// Stage: every option the fragments asked for must be in the final .config with the value
// asked for. Each one that is not is explained from the tree's Kconfig files (the unmet
// dependency that dropped it); drops listed in whitelist.conf are accepted and reported, any
// other drop fails the build with the full list.
import { join } from "node:path";
import type { With } from "../context.js";
import { configValues, formatEntry } from "../kernel/kconfig/config-file.js";
import { type Drop, explainDrops, findDrops } from "../kernel/kconfig/explain.js";
import type { MergedConfig } from "../kernel/kconfig/merge.js";
import { parseKconfigTree } from "../kernel/kconfig/tree.js";
import type { ConfiguredKernel, KernelTree, Verification } from "../kernel/types.js";
import { loadWhitelist, partitionDrops } from "../kernel/whitelist.js";
import { BuildError } from "../util/errors.js";

export interface VerifyKernelConfigInput {
  tree: KernelTree;
  merged: MergedConfig;
  configured: ConfiguredKernel;
}

export async function verifyKernelConfig(
  ctx: With<"kernel" | "data">,
  input: VerifyKernelConfigInput,
): Promise<Verification> {
  const { tree, merged, configured } = input;
  const { kernelArch, arch } = ctx.kernel;
  return ctx.progress.step("Checking that every requested option survived", async () => {
    const finalValues = configValues(configured.configText, configured.configPath);
    const dropped = findDrops(merged.requests.values(), finalValues);
    if (!dropped.length) return { requested: merged.requests.size, accepted: [], kconfigFiles: 0 };
    const kconfig = parseKconfigTree(tree.path, {
      srcarch: kernelArch.srcarch,
      arch: kernelArch.make,
    });
    const drops = explainDrops(dropped, kconfig, configured.configText, kernelArch.srcarch);
    const whitelistPath = join(ctx.data, "whitelist.conf");
    const { accepted, rejected } = partitionDrops(drops, await loadWhitelist(whitelistPath));
    for (const { drop, entry } of accepted) {
      ctx.progress.info(`accepted drop of CONFIG_${drop.symbol} (whitelist: ${entry.reason})`);
    }
    if (rejected.length) {
      const requested = new Set(merged.requests.keys());
      const droppedNames = new Set(drops.map((d) => d.symbol));
      const lines = rejected.map((d) => `  ${describeDrop(d, requested, droppedNames)}`);
      throw new BuildError(
        `${rejected.length} requested kernel option${rejected.length === 1 ? "" : "s"} did not survive make olddefconfig (${tree.version}, ${arch}):\n${lines.join("\n")}`,
        `turn the dependency on in a fragment, drop the request, or, if the drop is expected, add it to ${whitelistPath} with a reason; the generated config is ${configured.configPath}`,
      );
    }
    return { requested: merged.requests.size, accepted, kconfigFiles: kconfig.fileCount };
  });
}

/** `CONFIG_X=y (from common/a.conf) is n: reason [note on the blocking option]`. */
export function describeDrop(drop: Drop, requested: Set<string>, dropped: Set<string>): string {
  const got = drop.actual === "n" ? "not set" : `=${drop.actual}`;
  const notes = (drop.blockedBy ?? []).map((s) =>
    dropped.has(s)
      ? `CONFIG_${s} is requested but dropped too`
      : requested.has(s)
        ? `CONFIG_${s} is requested`
        : `no fragment requests CONFIG_${s}`,
  );
  return `${formatEntry(drop.symbol, drop.requested)} (from ${drop.from}) is ${got}: ${drop.reason}${notes.length ? ` [${notes.join("; ")}]` : ""}`;
}
