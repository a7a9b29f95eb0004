// gpgconf: stops the gpg-agent daemon of a GnuPG home directory.
import { type RunOptions, runTool, type ToolResult } from "./run.js";

export function killAgent(home: string, options: RunOptions = {}): Promise<ToolResult> {
  return runTool(
    "gpgconf",
    "stop the gpg-agent of a repository keyring",
    ["--homedir", home, "--kill", "gpg-agent"],
    { timeout: 10_000, ...options },
  );
}
