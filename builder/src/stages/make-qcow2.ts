// Stage: the disk image as qcow2 too (or instead): converted beside the raw one in staging.
import { rm } from "node:fs/promises";
import type { With } from "../context.js";
import { convertToQcow2, imageInfo } from "../tools/qemu-img.js";

/** NAME.qcow2 for NAME.img (or NAME), the qcow2 image's file name. */
export function qcow2Name(rawName: string): string {
  return `${rawName.replace(/\.(img|raw)$/, "")}.qcow2`;
}

export async function makeQcow2(
  ctx: With<"staging">,
  input: { name: string; keepRaw: boolean },
): Promise<{ name: string }> {
  const name = qcow2Name(input.name);
  const raw = ctx.staging.path(input.name);
  await convertToQcow2(raw, ctx.staging.path(name), { cancelSignal: ctx.signal });
  const info = await imageInfo(ctx.staging.path(name), { cancelSignal: ctx.signal });
  ctx.manifest.qcow2 = { name, virtualSize: info.virtualSize };
  ctx.artifacts.push(name);
  if (!input.keepRaw) {
    ctx.artifacts.splice(ctx.artifacts.indexOf(input.name), 1);
    await rm(raw);
  }
  ctx.progress.info(`${name}: qcow2, virtual size ${(info.virtualSize / 2 ** 20).toFixed(0)} MiB`);
  return { name };
}
