// The agent as PID 1, in its own PID, mount and UTS namespaces (so the host is untouched):
// it mounts the early filesystems itself, serves the API, and powers "the VM" off at the end,
// which inside a PID namespace ends the namespace.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import {
  AgentService,
  dial,
  Health,
  parseAddress,
  serviceClient,
  TtrpcClient,
} from "../../../../agent/src/client/index.js";
import { agentBundle as builtBundle, repoRoot } from "../../../helpers/agent.js";

/**
 * A scratch directory the agent's own mounts do not hide: it mounts fresh tmpfs on /tmp and
 * /run, so not there (a clone of the repository may well live under /tmp).
 */
function scratchBase(): string {
  for (const dir of [path.join(repoRoot, ".cache"), "/var/tmp", homedir()]) {
    mkdirSync(dir, { recursive: true });
    if (!/^\/(tmp|run)(\/|$)/.test(realpathSync(dir))) return dir;
  }
  throw new Error("no scratch directory outside /tmp and /run");
}

describe("agent as init (PID 1)", () => {
  it("mounts /proc, /sys, /dev, /dev/pts, /run, /tmp and cgroup2, brings up lo, serves, and powers off after DestroySandbox", async () => {
    const dir = mkdtempSync(path.join(scratchBase(), "kata-init-mode-"));
    // The agent loads most of its code on first use, after its own mounts: a copy outside /tmp
    // (where the repository's clone may be) keeps it reachable, as /usr/lib is in a guest.
    const agentDir = path.join(dir, "agent");
    cpSync(path.dirname(builtBundle), agentDir, { recursive: true });
    const agentBundle = path.join(agentDir, path.basename(builtBundle));
    const socket = path.join(dir, "agent.sock");
    const child = execa(
      "unshare",
      // --kill-child: if the test fails and kills unshare, the agent (and its namespace) goes too.
      [
        "--pid",
        "--fork",
        "--kill-child",
        "--mount",
        "--uts",
        "--ipc",
        "--net",
        process.execPath,
        agentBundle,
      ],
      {
        env: {
          KATA_AGENT_SERVER_ADDR: `unix://${socket}`,
          KATA_AGENT_RUN_DIR: path.join(dir, "run"),
          KATA_AGENT_LOG_LEVEL: "info",
        },
        reject: false,
        stdin: "ignore",
      },
    );
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    try {
      const client = new TtrpcClient(
        await dial(parseAddress(`unix://${socket}`), { timeoutMs: 20_000, retryMs: 50 }).catch((err) => {
          throw new Error(`${(err as Error).message}\nagent stderr:\n${stderr}`);
        }),
      );
      expect((await serviceClient(client, Health).check({})).status).toBe(1);
      // /sys and /dev may already hold this very filesystem (same network namespace, devtmpfs).
      expect(stderr).toMatch(/running as init; mounted \/proc .*\/dev\/pts \/run \/tmp \/sys\/fs\/cgroup/);
      expect(stderr).not.toContain("could not mount");

      // What PID 1 of the namespace sees: its own mounts, with the expected types.
      const agentPid = Number(
        (await execa("pgrep", ["-f", "-n", `${agentBundle}$`], { reject: false })).stdout
          .trim()
          .split("\n")
          .at(-1),
      );
      const mounts = readFileSync(`/proc/${agentPid}/mountinfo`, "utf8");
      for (const [target, type] of [
        ["/proc", "proc"],
        ["/dev", "devtmpfs"],
        ["/dev/pts", "devpts"],
        ["/run", "tmpfs"],
        ["/sys/fs/cgroup", "cgroup2"],
      ] as const) {
        expect(mounts).toMatch(new RegExp(` ${target.replace(/\//g, "\\/")} .* - ${type} `));
      }
      expect(readFileSync(`/proc/${agentPid}/status`, "utf8")).toMatch(/^NSpid:\s+\d+\s+1$/m);
      // Its network namespace starts with lo down; the agent brings it up.
      const lo = await execa("nsenter", ["-t", String(agentPid), "-n", "ip", "-json", "link", "show", "lo"]);
      expect(JSON.parse(lo.stdout)[0].flags).toContain("UP");

      await serviceClient(client, AgentService).destroySandbox({});
      const result = await child;
      // reboot(2) from PID 1 of a PID namespace ends the namespace (its init gets SIGINT).
      expect(result.exitCode === 0 || result.signal === "SIGINT" || result.exitCode === 130).toBe(true);
      expect(stderr).toContain('"msg":"powering off"');
      client.close();
    } finally {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
