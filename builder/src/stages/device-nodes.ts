// Device nodes in a root filesystem need mknod, which Node lacks; the mknod program does it.
import { check, runTool } from "../tools/run.js";
import type { TreeEntry } from "../util/tree.js";

export async function makeDeviceNode(abs: string, entry: TreeEntry): Promise<void> {
  const kind = entry.type === "char" ? "c" : entry.type === "block" ? "b" : "p";
  const args =
    kind === "p" ? [abs, "p"] : [abs, kind, String(entry.rdevMajor ?? 0), String(entry.rdevMinor ?? 0)];
  check(await runTool("mknod", "create device nodes from the tarball", args), `creating /${entry.path}`);
}
