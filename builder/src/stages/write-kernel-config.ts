// Stage: the verified .config as an output (`kata-build kernel --config-only`).
import { writeFile } from "node:fs/promises";
import type { With } from "../context.js";
import { KERNEL_FILES } from "../kernel/cache.js";

export async function writeKernelConfig(ctx: With<"staging">, input: { configText: string }): Promise<void> {
  await writeFile(ctx.staging.path(KERNEL_FILES.config), input.configText);
  ctx.artifacts.push(KERNEL_FILES.config);
}
