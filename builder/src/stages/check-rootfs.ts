// Stage: the checks upstream's image and initrd builders make on their input: an init, and an
// agent. Which of the two /sbin/init is decides how an initrd starts.
import type { BuildContext } from "../context.js";
import { BuildError } from "../util/errors.js";
import { resolveInRoot } from "../util/in-root.js";
import type { Tree } from "../util/tree.js";

export interface RootfsInit {
  /** /sbin/init, resolved inside the root. */
  init: string;
  /** True when /sbin/init is the agent itself. */
  agentInit: boolean;
}

export async function checkRootfs(_ctx: BuildContext, input: { tree: Tree }): Promise<RootfsInit> {
  const { tree } = input;
  const init = await resolveInRoot(tree.root, "/sbin/init");
  const present = (p: string) => tree.entries.some((e) => `/${e.path}` === p);
  if (!present(init)) {
    throw new BuildError(
      `the root filesystem ${tree.root} has no /sbin/init`,
      "build it with `kata-build rootfs`",
    );
  }
  const agent = await resolveInRoot(tree.root, "/usr/bin/kata-agent");
  if (!present(agent)) throw new BuildError(`the root filesystem ${tree.root} has no /usr/bin/kata-agent`);
  return { init, agentInit: init === agent };
}
