// Stage: the kernel configuration we ask for: the fragment files for this architecture,
// hypervisor and feature list (rootfs/kernel/fragments), merged in order, later files winning.
// Each option one fragment sets and a later one changes is reported.
import type { With } from "../context.js";
import { type FragmentFile, selectFragments } from "../kernel/fragments.js";
import { conflicts, type MergedConfig, mergedHash, mergeFragments } from "../kernel/kconfig/merge.js";

export interface MergedFragments {
  fragments: FragmentFile[];
  merged: MergedConfig;
  /** Hash of the merged configuration: part of the cache key. */
  mergedSha256: string;
}

export async function mergeKernelFragments(ctx: With<"kernel" | "data">): Promise<MergedFragments> {
  const { arch, hypervisor, features, extraFragments } = ctx.kernel;
  const fragments = await selectFragments(ctx.data, { arch, hypervisor, features, extra: extraFragments });
  const merged = mergeFragments(fragments);
  for (const c of conflicts(merged)) {
    const was = c.overrides[c.overrides.length - 1]!;
    ctx.progress.info(`CONFIG_${c.symbol}=${c.value} from ${c.from} replaces ${was.value} from ${was.from}`);
  }
  return { fragments, merged, mergedSha256: mergedHash(merged) };
}
