// The Debian agent-as-init guest for real: only what the agent runs is left in it, the agent's
// start-up snapshot is made there by Debian's own node, and the wrapper starts the agent from
// it; a damaged blob, other node flags or another node binary make the wrapper load the bundle
// instead, and the agent still serves. Each case runs on its own copy of the shared root.
import { execFileSync, spawn } from "node:child_process";
import {
  closeSync,
  cpSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dial, Health, parseAddress, serviceClient, TtrpcClient } from "../../../agent/src/client/index.js";
import { type DebianRootfs, debianRootfs } from "../../helpers/builder-debian.js";

let rootfs: DebianRootfs;
let work: string;

beforeAll(async () => {
  rootfs = await debianRootfs("agent");
  work = mkdtempSync(join(tmpdir(), "agent-init-"));
}, 15 * 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A private copy of the root, to change without touching the shared one. */
function copyOfRoot(name: string): string {
  const root = join(work, name);
  execFileSync("cp", ["-a", rootfs.root, root]);
  return root;
}

interface Started {
  /** The agent's "agent ready" log record. */
  ready: Record<string, unknown>;
  /** What the wrapper and the agent wrote on stderr until then. */
  stderr: string;
}

/**
 * Starts /usr/bin/kata-agent in the root as the guest does (through the wrapper), serving on a
 * Unix socket in the root's /srv, answers one Health.Check, and stops it.
 */
async function startInRoot(root: string): Promise<Started> {
  const script = [
    'mount -t proc proc "$0/proc"',
    'mount -t tmpfs tmpfs "$0/run"',
    'mount -t tmpfs tmpfs "$0/tmp"',
    'exec chroot "$0" /usr/bin/kata-agent --cmdline /dev/null',
  ].join(" && ");
  const child = spawn("unshare", ["--mount", "--propagation", "private", "sh", "-c", script, root], {
    env: {
      PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
      KATA_AGENT_SERVER_ADDR: "unix:///srv/agent.sock",
      KATA_AGENT_RUN_DIR: "/run/kata-containers",
      KATA_AGENT_LOG_LEVEL: "info",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString("utf8");
  });
  try {
    const client = new TtrpcClient(
      await dial(parseAddress(`unix://${join(root, "srv/agent.sock")}`), { timeoutMs: 30_000, retryMs: 50 }),
    );
    await serviceClient(client, Health).check({}, { timeoutMs: 30_000 });
    client.close();
    const line = stderr.split("\n").find((l) => l.includes('"msg":"agent ready"'));
    if (!line) throw new Error(`no "agent ready" line:\n${stderr}`);
    return { ready: JSON.parse(line) as Record<string, unknown>, stderr };
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
  }
}

describe("kata-build rootfs --distro debian --agent-init", () => {
  it("keeps the agent, node, the OCI runtimes and the programs the agent runs, and nothing else", () => {
    const root = rootfs.root;
    for (const kept of [
      "usr/bin/kata-agent",
      "usr/lib/kata-agent/kata-agent.mjs",
      "usr/lib/kata-agent/kata_native.node",
      "usr/bin/node",
      "usr/lib/x86_64-linux-gnu/libnode.so.108",
      "usr/share/nodejs/acorn/dist/acorn.js",
      "usr/bin/sh",
      // The debug console's shell.
      "usr/bin/bash",
      "usr/bin/crun",
      "usr/sbin/runc",
      "usr/bin/ip",
      "usr/sbin/iptables-save",
      "usr/sbin/ip6tables-restore",
      "usr/sbin/mkfs.ext4",
      "usr/sbin/resize2fs",
      "etc/mke2fs.conf",
      "etc/ld.so.cache",
    ]) {
      expect(existsSync(join(root, kept)), kept).toBe(true);
    }
    expect(readlinkSync(join(root, "usr/sbin/init"))).toBe("/usr/bin/kata-agent");
    for (const gone of ["usr/bin/ls", "usr/bin/tar", "usr/bin/perl", "usr/share/nodejs/@types"]) {
      expect(existsSync(join(root, gone)), gone).toBe(false);
    }
    const manifest = rootfs.manifest as { prune: { removedFiles: number; missingLibraries: string[] } };
    expect(manifest.prune.removedFiles).toBeGreaterThan(500);
    expect(manifest.prune.missingLibraries).toEqual([]);
  });

  it("runs the agent's tools in the pruned root", () => {
    const run = (command: string) =>
      execFileSync(
        "unshare",
        ["--mount", "sh", "-c", `mount -t proc proc "$0/proc" && chroot "$0" ${command}`, rootfs.root],
        {
          encoding: "utf8",
          timeout: 60_000,
        },
      );
    expect(run("/usr/sbin/iptables-save --version")).toMatch(/^iptables-save v1\.8/);
    expect(run("/usr/sbin/ip6tables-restore --version")).toMatch(/^ip6tables-restore v1\.8/);
    expect(run("/usr/bin/ip -V")).toMatch(/^ip utility/);
    expect(run("/usr/bin/crun --version")).toMatch(/^crun version /);
    expect(run("/usr/sbin/runc --version")).toMatch(/^runc version /);
    expect(run("/usr/sbin/mkfs.ext4 -V 2>&1")).toMatch(/^mke2fs 1\.47/);
  });

  it("has a start-up snapshot made by Debian's node, and the wrapper starts the agent from it", async () => {
    const manifest = rootfs.manifest as { snapshot: { made: boolean; node: string } };
    expect(manifest.snapshot.made).toBe(true);
    expect(manifest.snapshot.node).toMatch(/node v18\./);
    expect(existsSync(join(rootfs.root, "usr/lib/kata-agent/kata-agent-snapshot.cjs"))).toBe(false);
    const root = copyOfRoot("snapshot");
    const { ready, stderr } = await startInRoot(root);
    expect(ready.snapshot).toBe(true);
    expect(stderr).not.toContain("start-up snapshot not used");
  }, 120_000);

  it("starts the agent from its bundle when the blob is damaged", async () => {
    const root = copyOfRoot("damaged");
    const blob = join(root, "usr/lib/kata-agent/kata-agent.blob");
    const fd = openSync(blob, "r+");
    writeSync(fd, Buffer.from("damaged"), 0, 7, Math.floor(readFileSync(blob).length / 2));
    closeSync(fd);
    const { ready, stderr } = await startInRoot(root);
    expect(ready.snapshot).toBe(false);
    expect(stderr).toMatch(
      /start-up snapshot not used: \/usr\/lib\/kata-agent\/kata-agent\.blob has changed/,
    );
  }, 120_000);

  it("starts the agent from its bundle when the wrapper's node flags are not the blob's", async () => {
    const root = copyOfRoot("flags");
    const wrapper = join(root, "usr/bin/kata-agent");
    writeFileSync(
      wrapper,
      readFileSync(wrapper, "utf8").replace(/^NODE_FLAGS="/m, 'NODE_FLAGS="--stack-size=900 '),
    );
    const { ready, stderr } = await startInRoot(root);
    expect(ready.snapshot).toBe(false);
    expect(stderr).toMatch(/start-up snapshot not used: it was made for node flags/);
  }, 120_000);

  it("starts the agent from its bundle when node is another build than the one that made the blob", async () => {
    const root = copyOfRoot("node");
    // This machine's node: an official build, which besides libstdc++ (kept for Debian's node)
    // names glibc's libdl and libpthread stubs, taken from this (Debian 12) machine too.
    rmSync(join(root, "usr/bin/node"));
    cpSync(process.execPath, join(root, "usr/bin/node"));
    for (const stub of ["libdl.so.2", "libpthread.so.0"]) {
      cpSync(join("/usr/lib/x86_64-linux-gnu", stub), join(root, "usr/lib/x86_64-linux-gnu", stub));
    }
    const { ready, stderr } = await startInRoot(root);
    expect(ready.snapshot).toBe(false);
    expect(stderr).toMatch(/start-up snapshot not used: \/usr\/bin\/node has changed/);
  }, 120_000);
});
