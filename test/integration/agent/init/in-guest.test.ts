// The agent knows it is in a guest however it was started, and acts on the system only then.
// Each way of starting it, for real, on this host: in private UTS and mount namespaces wherever
// it does act (so that the host's hostname and /etc/resolv.conf are untouched), and as a
// systemd service in a PID namespace whose PID 1 plays systemd's part (a /run/systemd/system
// directory, INVOCATION_ID, and a NOTIFY_SOCKET served by Python that receives READY=1).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { ctlBundle, type RunningAgent, startAgent } from "../../../helpers/agent.js";
import { DEBIAN_PYTHON } from "../../../helpers/peers.js";

interface Features {
  in_guest: boolean;
  in_guest_reason: string;
  debug_console: string[];
  vsock_loopback_allowed: boolean;
}

async function features(agent: RunningAgent): Promise<Features> {
  const { stdout } = await execa(process.execPath, [ctlBundle, "--addr", agent.address, "Version"]);
  return (JSON.parse(stdout) as { features: Features }).features;
}

/** The agent's own pid (the helper's child may be a launcher): from its log lines. */
function agentPid(agent: RunningAgent): number {
  const ready = agent.logs().find((r) => r.msg === "agent ready");
  return Number(ready?.pid);
}

const nsenter = (pid: number, flag: string, ...command: string[]) =>
  execa("nsenter", ["-t", String(pid), flag, ...command]).then((r) => r.stdout);

const NO_SUCH_MODULE = { name: "kata_test_no_such_module", parameters: [] };

describe("in-guest detection", () => {
  it("with KATA_AGENT_IN_GUEST=1 on a host: sets the hostname, binds resolv.conf, runs modprobe", async () => {
    const agent = await startAgent({
      launcher: ["unshare", "--uts", "--mount"],
      env: { KATA_AGENT_IN_GUEST: "1" },
    });
    try {
      expect(await features(agent)).toMatchObject({
        in_guest: true,
        in_guest_reason: expect.stringMatching(/^set explicitly/),
      });
      expect(agent.logs()).toContainEqual(
        expect.objectContaining({
          msg: "in a guest: acting on it",
          reason: expect.stringMatching(/explicitly/),
        }),
      );
      // Kernel modules are loaded (this host has no modprobe at all, which the error says).
      await expect(
        agent.agent.createSandbox({ sandboxId: "pod", kernelModules: [NO_SUCH_MODULE] }),
      ).rejects.toThrow(/load kernel module kata_test_no_such_module/);
      const hostResolv = readFileSync("/etc/resolv.conf", "utf8");
      await agent.agent.createSandbox({
        sandboxId: "pod",
        hostname: "kata-in-guest-test",
        dns: ["nameserver 192.0.2.53", "search pod.test"],
      });
      const pid = agentPid(agent);
      expect(await nsenter(pid, "-u", "hostname")).toBe("kata-in-guest-test");
      expect(await nsenter(pid, "-m", "cat", "/etc/resolv.conf")).toBe(
        "nameserver 192.0.2.53\nsearch pod.test",
      );
      // The host saw none of it.
      expect(hostname()).not.toBe("kata-in-guest-test");
      expect(readFileSync("/etc/resolv.conf", "utf8")).toBe(hostResolv);
    } finally {
      await agent.stop();
    }
  });

  it("as a host process (even below a systemd service): leaves the system alone", async () => {
    // INVOCATION_ID is what a CI job running as a service hands down to everything below it.
    const agent = await startAgent({ env: { INVOCATION_ID: "0123456789abcdef0123456789abcdef" } });
    try {
      expect(await features(agent)).toMatchObject({
        in_guest: false,
        in_guest_reason: expect.stringMatching(
          /^a host process: not PID 1, parent is pid \d+, not a systemd service/,
        ),
      });
      await agent.agent.createSandbox({
        sandboxId: "pod",
        hostname: "must-not-be-set",
        kernelModules: [NO_SUCH_MODULE],
      });
      expect(hostname()).not.toBe("must-not-be-set");
      expect(agent.logs()).toContainEqual(
        expect.objectContaining({
          msg: "not loading a kernel module outside a guest VM",
          module: NO_SUCH_MODULE.name,
        }),
      );
    } finally {
      await agent.stop();
    }
  });

  it("as a systemd service: in the guest, READY=1 on NOTIFY_SOCKET, which its children do not inherit", async () => {
    const dir = process.env.TMPDIR ?? "/tmp";
    const notifySocket = path.join(dir, "notify.sock");
    const consoleSocket = path.join(dir, "console.sock");
    const receiver = spawn(
      DEBIAN_PYTHON,
      [
        "-c",
        'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("bound",flush=True)\nwhile True: print(repr(s.recv(4096).decode()),flush=True)',
        notifySocket,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let received = "";
    const bound = new Promise<void>((resolve) =>
      receiver.stdout.on("data", (chunk: Buffer) => {
        received += chunk.toString();
        if (received.startsWith("bound\n")) resolve();
      }),
    );
    await bound;
    // PID 1 of a new PID namespace stands in for systemd: /run/systemd/system exists, and it
    // starts the agent as its child with the variables systemd gives a Type=notify unit.
    const systemdStandIn = [
      "mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system || exit 1",
      '"$@" & wait',
    ].join("\n");
    const agent = await startAgent({
      launcher: [
        "unshare",
        "--pid",
        "--fork",
        "--kill-child",
        "--mount-proc",
        "--uts",
        "sh",
        "-c",
        systemdStandIn,
        "sh",
      ],
      env: { INVOCATION_ID: "5f0c0e1b7d2a4c7e9a3b2c1d0e9f8a7b", NOTIFY_SOCKET: notifySocket },
      cmdline: `agent.debug_console agent.debug_console_addr=unix://${consoleSocket}`,
    });
    try {
      expect(await features(agent)).toMatchObject({
        in_guest: true,
        in_guest_reason: expect.stringMatching(/^started by systemd as a service/),
      });
      await expect.poll(() => received, { timeout: 5000 }).toContain("READY=1\\nSTATUS=serving unix://");
      // The shell of the debug console is a child of the agent: NOTIFY_SOCKET is gone from it.
      const shell = await execa(process.execPath, [ctlBundle, "console", `unix://${consoleSocket}`], {
        input: 'echo "notify=[$NOTIFY_SOCKET] pid1=$(cat /proc/1/comm)"\n',
        timeout: 20_000,
      });
      expect(shell.stdout).toMatch(/notify=\[\] pid1=sh/);
      // DestroySandbox ends the agent, which tells systemd it is stopping.
      await agent.agent.destroySandbox({});
      await expect.poll(() => received, { timeout: 5000 }).toContain("STOPPING=1");
    } finally {
      await agent.stop();
      receiver.kill();
    }
  });
});
