// The reference for the agent's own start inside the guest: the same guest and kernel, booted
// the same way (same root, memory and CPUs, the boot check's own command line), with an init
// that times the guest's `node -e 0` on node's clock instead of starting the agent, then powers
// off. The first run is the comparable one: like the agent at boot it finds nothing of node in
// the page cache. An initrd boot also yields how long the kernel took to unpack it.
import { bootUntilMarker } from "../tools/qemu-system.js";
import { BuildError } from "../util/errors.js";
import { NODE_BASELINE_MARKER } from "./console.js";
import { NODE_BASELINE_INIT } from "./guest.js";
import { type BootRoot, PROFILES } from "./profiles.js";

export interface NodeBaseline {
  /** The first `node -e 0` after boot: node's start to its exit, on node's clock, in ms. */
  coldMs: number;
  /** The later runs. */
  warmMs: number[];
  /** The kernel unpacking the initramfs (its own log's timestamps), for an initrd boot. */
  initramfsUnpackMs?: number;
}

/**
 * How long the kernel took to unpack the initramfs: from "Unpacking initramfs..." to "Freeing
 * initrd memory" (both at loglevel 7), by their printk timestamps.
 */
export function parseInitramfsUnpack(output: string): number | undefined {
  const at = (text: string) => {
    const m = new RegExp(`^\\[\\s*(\\d+\\.\\d+)\\] ${text}`, "m").exec(output);
    return m ? Number(m[1]) : undefined;
  };
  // 6.1 says the former; older kernels the latter.
  const start = at("Unpacking initramfs") ?? at("Trying to unpack rootfs image as initramfs");
  const end = at("Freeing initrd memory");
  return start !== undefined && end !== undefined ? Math.round((end - start) * 1000) : undefined;
}

/** The runs' times from the console: "<marker> run N: <ms> ms". */
export function parseNodeBaseline(output: string): number[] {
  const re = new RegExp(`${NODE_BASELINE_MARKER} run \\d+: ([\\d.]+) ms`, "g");
  return [...output.matchAll(re)].map((m) => Number(m[1]));
}

export async function nodeBaseline(options: {
  /** The guest's initrd or one of its images, as the boot check boots it (profile "ours"). */
  root: BootRoot;
  kernel: string;
  memoryMiB?: number;
  cpus?: number;
  timeoutSeconds?: number;
}): Promise<NodeBaseline> {
  const { root } = options;
  const cpus = options.cpus ?? 2;
  const cmdline = [
    // loglevel 7 shows the initramfs messages timed above.
    PROFILES.ours.cmdline(root, cpus).replace("loglevel=6", "loglevel=7"),
    root.kind === "initrd" ? `rdinit=${NODE_BASELINE_INIT}` : `init=${NODE_BASELINE_INIT}`,
  ].join(" ");
  const result = await bootUntilMarker(
    {
      kernel: options.kernel,
      cmdline,
      ...(root.kind === "initrd" ? { initrd: root.path } : { disk: root.path }),
      memoryMiB: options.memoryMiB ?? 1024,
      cpus,
      console: "stdout",
    },
    { marker: `${NODE_BASELINE_MARKER} done`, timeout: (options.timeoutSeconds ?? 300) * 1000 },
  );
  const runs = parseNodeBaseline(result.output);
  if (result.markerSeconds === undefined || runs.length === 0) {
    const tail = result.output.trimEnd().split("\n").slice(-20).join("\n    ");
    throw new BuildError(
      `the node baseline boot (${root.kind} ${root.path}) did not finish; console:\n    ${tail}`,
    );
  }
  const unpack = parseInitramfsUnpack(result.output);
  return {
    coldMs: runs[0]!,
    warmMs: runs.slice(1),
    ...(unpack !== undefined ? { initramfsUnpackMs: unpack } : {}),
  };
}
