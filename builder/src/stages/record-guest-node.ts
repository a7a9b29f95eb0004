// Stage: the guest's own Node.js version, from its /usr/bin/node run inside the tree (chroot),
// for the manifest: whichever way node got there (the distribution's package or --node), this
// is what will run the agent.
import type { With } from "../context.js";
import { runInRoot } from "../tools/chroot.js";

export async function recordGuestNode(ctx: With<"root">): Promise<void> {
  const run = await runInRoot(
    ctx.root,
    ["/usr/bin/node", "-p", "process.version"],
    "ask the guest's node for its version",
    {
      cancelSignal: ctx.signal,
    },
  );
  const version = run.stdout.trim();
  if (run.ok && /^v\d+\.\d+\.\d+/.test(version)) {
    ctx.manifest.guestNode = { path: "/usr/bin/node", version };
    return;
  }
  // A tree for another architecture, or a build that may not chroot: say so, do not guess.
  const why = run.ok ? `it printed ${JSON.stringify(version)}` : run.stderr.trim() || `exit ${run.exitCode}`;
  ctx.manifest.guestNode = {
    path: "/usr/bin/node",
    version: null,
    unknown: `could not run it in the tree: ${why}`,
  };
  ctx.progress.info(`the guest's /usr/bin/node did not report its version (${why})`);
}
