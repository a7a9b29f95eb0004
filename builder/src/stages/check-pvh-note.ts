// Stage: the uncompressed vmlinux must carry the PVH entry note, or QEMU -kernel, Cloud
// Hypervisor and Firecracker cannot boot it directly (x86_64 only; arm64 boots the Image).
import type { With } from "../context.js";
import { pvhEntry, readElfNotes } from "../kernel/elf-notes.js";
import { BuildError } from "../util/errors.js";

/** The PVH entry address (hex), or undefined on architectures without PVH. */
export async function checkPvhNote(
  ctx: With<"kernel">,
  input: { vmlinux: string },
): Promise<string | undefined> {
  const { vmlinux } = input;
  if (ctx.kernel.arch !== "x86_64") return undefined;
  const entry = pvhEntry(await readElfNotes(vmlinux));
  if (!entry) {
    throw new BuildError(
      `${vmlinux} has no Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY), so it cannot be booted as an uncompressed kernel`,
      "check that CONFIG_PVH=y survived (it needs CONFIG_HYPERVISOR_GUEST=y)",
    );
  }
  ctx.progress.info(`vmlinux PVH entry point: ${entry}`);
  return entry;
}
