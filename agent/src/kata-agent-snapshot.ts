// Entry point of the start-up snapshot. kata-build runs the guest's own node on this bundle
// (`node --snapshot-blob kata-agent.blob --build-snapshot kata-agent-snapshot.cjs`) when it
// makes the image: everything below, every RPC group and the service descriptors are loaded
// and evaluated then, and the start-up path runs once (snapshot-warmup.ts) so its code is
// compiled; the guest's node starts from the result instead of reading, compiling and
// running the agent's code at boot. Nothing here may read the machine it runs on:
// that happens in the deserialized main function, in the guest.
import { startupSnapshot } from "node:v8";
import { loadAllGroups } from "./rpc/index.js";
import { warmUpStartPath } from "./snapshot-warmup.js";
import { startAgent } from "./start.js";
import { startClock } from "./startup-clock.js";

if (!startupSnapshot.isBuildingSnapshot()) {
  process.stderr.write(
    "kata-agent-snapshot.cjs only builds a start-up snapshot (node --build-snapshot); run kata-agent.mjs\n",
  );
  process.exit(2);
}

loadAllGroups()
  .then(warmUpStartPath)
  .then(
    () =>
      startupSnapshot.setDeserializeMainFunction(() => {
        startClock({ snapshot: true });
        // With a snapshot there is no script: argv is [node, ...the agent's arguments].
        startAgent(process.argv.slice(1));
      }),
    (err: unknown) => {
      process.stderr.write(`kata-agent: cannot prepare the start-up snapshot: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
