// `npm run bench`: every figure the issues name, each beside a reference measured in the same
// run. Sections can be picked with --only; --quick shortens the runs for a smoke test.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { useScratchTmpdir } from "../helpers/scratch.js";
import { benchAgentRpc } from "./agent-rpc.js";
import { benchBuilderSection } from "./builder.mjs";
import { benchContainers } from "./containers.js";
import { benchBoot, benchKernel } from "./guest.js";
import { benchHostile } from "./hostile.js";
import { renderSection, type Section } from "./report.js";

const sections: Record<string, (quick: boolean) => Promise<Section>> = {
  rpc: (quick) =>
    benchAgentRpc({ calls: quick ? 2000 : 20_000, rounds: quick ? 1 : 3, coldRuns: quick ? 3 : 10 }),
  containers: (quick) =>
    benchContainers({
      runs: quick ? 5 : 30,
      cycles: quick ? 50 : 1000,
      alive: quick ? 10 : 100,
      bytes: quick ? 64e6 : 512e6,
      streamRounds: quick ? 1 : 5,
    }),
  hostile: (quick) =>
    benchHostile({ writes: quick ? 8 : 20, connections: quick ? 50 : 200, calls: quick ? 2000 : 10_000 }),
  builder: (quick) => benchBuilderSection({ quick }),
  kernel: () => benchKernel(),
  boot: (quick) => benchBoot(quick ? 1 : 3),
};

const USAGE = `Usage: npm run bench -- [--only SECTION[,SECTION...]] [--json FILE] [--quick]

Prints every measured figure beside a reference measured in the same run, as a ratio.

  --only LIST   run these sections only (${Object.keys(sections).join(", ")})
  --json FILE   also write the figures as JSON
  --quick       short runs, for a smoke test (the figures are then rough)
  -h, --help    this text
`;

export async function main(argv: string[]): Promise<number> {
  let values: { only?: string; json?: string; quick?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        only: { type: "string" },
        json: { type: "string" },
        quick: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const wanted = values.only ? values.only.split(",") : Object.keys(sections);
  const unknown = wanted.filter((name) => !(name in sections));
  if (unknown.length) {
    process.stderr.write(
      `bench: unknown section(s) ${unknown.join(", ")}; known: ${Object.keys(sections).join(", ")}\n`,
    );
    return 2;
  }
  const results: Section[] = [];
  // Bundles, rootfs trees and agents' run directories go to a scratch TMPDIR removed at the end.
  const scratch = useScratchTmpdir("kata-bench-");
  process.stdout.write(
    `# kata-guest-toolkit bench (${new Date().toISOString()}, node ${process.version})\n\n`,
  );
  try {
    for (const name of wanted) {
      process.stderr.write(`bench: running ${name}...\n`);
      const section = await sections[name]!(values.quick ?? false);
      results.push(section);
      process.stdout.write(`${renderSection(section)}\n`);
    }
  } finally {
    scratch.remove();
  }
  if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
  return 0;
}
