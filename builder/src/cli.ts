// kata-build: builds Kata guest root filesystems, images, initrds and kernels, and boots them.

import { commands } from "./commands/index.js";
import { BuildError } from "./util/errors.js";
import { formatHelp, parseOptions } from "./util/options.js";
import { Progress } from "./util/progress.js";

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 8) + 2;
  return [
    "Usage: kata-build <command> [options]",
    "",
    "Builds Kata Containers guests: an Azure Linux (or Debian) root filesystem holding the",
    "Node.js agent, a disk image with optional dm-verity, an initrd, and a guest kernel.",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Run 'kata-build <command> --help' for a command's options.",
    "",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(mainHelp());
    return name ? 0 : 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`kata-build: unknown command '${name}'\n\n${mainHelp()}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(formatHelp(command.usage, command.description, command.options));
    return 0;
  }
  try {
    const { values, positionals } = parseOptions(command.name, command.options, rest);
    const quiet = (values as Record<string, unknown>).quiet === true;
    await command.run(values, positionals, new Progress({ quiet }));
    return 0;
  } catch (err) {
    if (err instanceof BuildError) {
      process.stderr.write(`kata-build ${command.name}: error: ${err.message}\n`);
      if (err.hint) process.stderr.write(`  ${err.hint}\n`);
      return 1;
    }
    throw err;
  }
}
