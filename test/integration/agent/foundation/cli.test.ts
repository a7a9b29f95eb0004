// kata-agent's command line follows the convention the three bins share: --version, --help,
// a mistyped option gets "did you mean" and exit 2, nothing else is done.
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { agentBundle } from "../../../helpers/agent.js";

const agent = (args: string[]) =>
  execa(process.execPath, [agentBundle, ...args], {
    reject: false,
    stripFinalNewline: false,
    env: { NO_COLOR: "1" },
  });

describe("kata-agent's command line", () => {
  it("prints its version and help", async () => {
    const version = await agent(["--version"]);
    expect(version.exitCode).toBe(0);
    expect(version.stdout).toMatch(/^kata-agent \d+\.\d+\.\d+ \(agent API 0\.0\.1, node v\d+/);
    const help = await agent(["-h"]);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain("agent.server_addr");
  });

  it("exits 2 on a mistyped option, saying what was meant", async () => {
    const r = await agent(["--verison"]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "kata-agent: unknown option '--verison' (did you mean '--version'?)\nRun 'kata-agent --help' for usage.\n",
    );
    const missing = await agent(["--config"]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("argument missing");
  });
});
