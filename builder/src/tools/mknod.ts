// mknod: device nodes and FIFOs in a root filesystem built from a tarball (Node has no mknod).
import type { TreeEntry } from "../util/tree.js";
import { check, runTool } from "./run.js";

/** Creates the char or block device, or FIFO, that `entry` describes at `abs`. */
export async function makeDeviceNode(abs: string, entry: TreeEntry): Promise<void> {
  const kind = entry.type === "char" ? "c" : entry.type === "block" ? "b" : "p";
  const args =
    kind === "p" ? [abs, "p"] : [abs, kind, String(entry.rdevMajor ?? 0), String(entry.rdevMinor ?? 0)];
  check(await runTool("mknod", "create device nodes from the tarball", args), `creating /${entry.path}`);
}
