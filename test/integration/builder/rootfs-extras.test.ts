// kata-build rootfs --policy/--hooks/--add-file/--overlay for real: a Debian agent-as-init root
// built with them, and the agent started the way the guest starts it (/usr/bin/kata-agent, in
// the root) enforcing the policy it was built with, answering a client other than itself.
import { type ChildProcess, spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRootfs } from "../../../builder/src/pipelines/rootfs.js";
import { Progress } from "../../../builder/src/util/progress.js";
import { debianConfig } from "../../helpers/builder-debian.js";
import { runGoClient } from "../../helpers/peers.js";

let dir: string;
let root: string;
let manifest: Record<string, unknown>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "rootfs-extras-"));
  const input = join(dir, "input");
  const hook = join(input, "hooks/prestart/10-mark");
  mkdirSync(join(hook, ".."), { recursive: true });
  writeFileSync(hook, "#!/bin/sh\ntouch /run/hook-ran\n");
  chmodSync(hook, 0o755);
  mkdirSync(join(input, "overlay/etc/kata-extra"), { recursive: true });
  writeFileSync(join(input, "overlay/etc/kata-extra/hello"), "hello from the overlay\n");
  writeFileSync(join(input, "motd"), "built by kata-build\n");
  writeFileSync(
    join(input, "policy.toml"),
    'version = 1\ndefault = "allow"\n\n[[rules]]\nname = "no-routes"\nrpcs = ["ListRoutes"]\neffect = "deny"\nreason = "built into the image"\n',
  );
  const result = await buildRootfs(
    debianConfig(join(dir, "out"), "agent", {
      tar: false,
      extras: {
        policy: join(input, "policy.toml"),
        hooks: join(input, "hooks"),
        files: [{ source: join(input, "motd"), dest: "/etc/motd" }],
        overlays: [join(input, "overlay")],
      },
    }),
    new Progress({ quiet: true }),
  );
  root = join(dir, "out", "rootfs");
  manifest = result.manifest;
}, 15 * 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("kata-build rootfs with a policy, hooks and extra files", () => {
  it("lays each where the agent and the runtime look, recorded in the manifest", () => {
    expect(readFileSync(join(root, "etc/kata-agent/environment"), "utf8")).toBe(
      "KATA_AGENT_POLICY_FILE=/etc/kata-agent/policy.toml\n",
    );
    expect(statSync(join(root, "usr/share/oci/hooks/prestart/10-mark")).mode & 0o111).toBe(0o111);
    expect(readFileSync(join(root, "etc/motd"), "utf8")).toBe("built by kata-build\n");
    expect(readFileSync(join(root, "etc/kata-extra/hello"), "utf8")).toBe("hello from the overlay\n");
    expect(manifest.extras).toMatchObject({
      policy: { path: "/etc/kata-agent/policy.toml" },
      hooks: { path: "/usr/share/oci/hooks", prestart: ["10-mark"] },
      files: [{ dest: "/etc/motd" }],
      overlays: [{ files: 1 }],
    });
    expect((manifest.inputs as { extras?: unknown }).extras).toBeDefined();
  });

  it("starts the agent with the policy: ListRoutes is denied by the built-in rule, other calls run", async () => {
    // The agent as the guest starts it (its wrapper reads the environment file), not as PID 1,
    // on a Unix socket the host can reach; /proc and /run as in the guest.
    const agent: ChildProcess = spawn(
      "unshare",
      [
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        'mount -t proc proc "$0/proc" && mount -t tmpfs tmpfs "$0/run" && exec chroot "$0" /usr/bin/kata-agent --cmdline /dev/null',
        root,
      ],
      {
        env: { ...process.env, KATA_AGENT_SERVER_ADDR: "unix:///tmp/agent.sock" },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let log = "";
    agent.stderr?.on("data", (d: Buffer) => {
      log += d.toString();
    });
    try {
      const socket = join(root, "tmp/agent.sock");
      for (let i = 0; i < 200 && !existsSync(socket); i++) await sleep(100);
      const address = `unix://${socket}`;
      const denied = await runGoClient(address, ["call", "grpc.AgentService", "ListRoutes", "{}"]);
      expect(denied.error, log).toMatchObject({ codeNumber: 7 });
      expect(denied.error?.message).toContain('rule "no-routes" denies it');
      const allowed = await runGoClient(address, ["call", "grpc.AgentService", "ListInterfaces", "{}"]);
      expect(allowed.exitCode, `${allowed.stderr}\n${log}`).toBe(0);
      expect(log).toContain('"msg":"agent policy loaded"');
    } finally {
      agent.kill("SIGTERM");
      await new Promise((r) => agent.once("close", r));
    }
  });
});
