// agent.debug_console, for real: the bundled agent serves a root shell on a pty to each client
// of its console address (here a Unix socket; in a guest the vsock port 1026 `kata-runtime exec`
// uses), kata-agent-ctl relays it, and the serial form runs a shell on a console terminal.
import { closeSync, existsSync, readFileSync, readlinkSync, readSync, writeSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDebugConsole } from "../../../../agent/src/console/debug-console.js";
import { Logger } from "../../../../agent/src/log.js";
import { native } from "../../../../agent/src/native/index.js";
import { Reaper } from "../../../../agent/src/processes/reaper.js";
import { ctlBundle, type RunningAgent, startAgent } from "../../../helpers/agent.js";

let agent: RunningAgent;
let consoleSocket: string;

beforeAll(async () => {
  consoleSocket = path.join(process.env.TMPDIR ?? "/tmp", "console.sock");
  agent = await startAgent({
    cmdline: `agent.debug_console agent.debug_console_addr=unix://${consoleSocket}`,
  });
});

afterAll(async () => {
  await agent.stop();
});

/** A client of the console: what it has read so far, and a way to wait for text in it. */
async function openSession() {
  const socket = net.connect(consoleSocket);
  await new Promise((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let output = "";
  socket.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return {
    socket,
    closed,
    output: () => output,
    /** Waits for `pattern` in what the shell printed, then returns its first group (or match). */
    async expect(pattern: RegExp): Promise<string> {
      await expect.poll(() => output, { timeout: 10_000 }).toMatch(pattern);
      const m = pattern.exec(output)!;
      return m[1] ?? m[0];
    },
  };
}

const alive = (pid: number) => existsSync(`/proc/${pid}`);

/** Whether the foreground process group of `shell`'s terminal is no longer the shell's own. */
function foregroundIsChildOf(shell: number): boolean {
  const fields = readFileSync(`/proc/${shell}/stat`, "utf8").split(") ")[1]!.split(" ");
  const [pgrp, tpgid] = [Number(fields[2]), Number(fields[5])];
  return tpgid > 0 && tpgid !== pgrp;
}

describe("the debug console of a running agent", () => {
  it("runs commands in a shell on a terminal of its own, and ends when the shell exits", async () => {
    const s = await openSession();
    s.socket.write("echo hello-$((6*7)); tty; stty size; echo pid=$$\n");
    expect(await s.expect(/hello-(42)/)).toBe("42");
    expect(await s.expect(/(\/dev\/pts\/\d+)/)).toMatch(/^\/dev\/pts\/\d+$/);
    expect(await s.expect(/\r\n(\d+ \d+)\r\n/)).toBe("24 80");
    const pid = Number(await s.expect(/pid=(\d+)/));
    s.socket.write("exit 3\n");
    await s.closed;
    await expect.poll(() => alive(pid)).toBe(false);
    await expect
      .poll(() => agent.logs())
      .toContainEqual(
        expect.objectContaining({ msg: "debug console shell exited", shellPid: pid, status: 3 }),
      );
  });

  it("passes on everything the shell printed just before it exited", async () => {
    // The kernel moves pty output to the master asynchronously: when the shell exits the last of
    // it may not have arrived yet. Repeated, since the race is short.
    for (let round = 0; round < 10; round++) {
      const s = await openSession();
      s.socket.write("seq 1 3000; echo end-of-output; exit\n");
      await s.closed;
      expect(s.output(), `round ${round}`).toMatch(/\r\n3000\r\nend-of-output\r\n/);
    }
  });

  it("gives each client its own shell and terminal, at the same time", async () => {
    const [a, b] = await Promise.all([openSession(), openSession()]);
    a.socket.write("echo A=$(tty)\n");
    b.socket.write("echo B=$(tty)\n");
    const ttyA = await a.expect(/A=(\/dev\/pts\/\d+)/);
    const ttyB = await b.expect(/B=(\/dev\/pts\/\d+)/);
    expect(ttyA).not.toBe(ttyB);
    a.socket.write("exit\n");
    b.socket.write("exit\n");
    await Promise.all([a.closed, b.closed]);
  });

  it("hangs up the shell and what it runs when the client goes away", async () => {
    const s = await openSession();
    s.socket.write("echo pid=$$; sleep 300\n");
    const pid = Number(await s.expect(/pid=(\d+)/));
    await expect.poll(() => s.output()).toMatch(/sleep 300/);
    s.socket.destroy();
    await expect.poll(() => alive(pid), { timeout: 5000 }).toBe(false);
  });

  it("^C reaches the foreground program through the terminal, as on a login", async () => {
    const s = await openSession();
    s.socket.write("echo pid=$$; sleep 300\n");
    const pid = Number(await s.expect(/pid=(\d+)/));
    // The sleep is the terminal's foreground process group once it runs.
    await expect.poll(() => foregroundIsChildOf(pid), { timeout: 10_000 }).toBe(true);
    s.socket.write("\x03");
    s.socket.write("echo status=$?\n");
    expect(await s.expect(/status=(\d+)/)).toBe("130"); // 128 + SIGINT
    s.socket.write("exit\n");
    await s.closed;
  });

  it("is what kata-agent-ctl console relays (a script on stdin ends with ^D)", async () => {
    const result = await execa(process.execPath, [ctlBundle, "console", `unix://${consoleSocket}`], {
      input: "echo from-ctl-$((1+1))\ntty\n",
      timeout: 20_000,
      reject: false,
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/from-ctl-2/);
    expect(result.stdout).toMatch(/\/dev\/pts\/\d+/);
  });

  it("is listed in Version", async () => {
    const { stdout } = await execa(process.execPath, [ctlBundle, "--addr", agent.address, "Version"]);
    expect(JSON.parse(stdout).features.debug_console).toEqual([`unix://${consoleSocket}`]);
  });
});

describe("startDebugConsole", () => {
  const lines: Record<string, unknown>[] = [];
  const log = Logger.create("debug", (line) => lines.push(JSON.parse(line)));
  const reaper = new Reaper(log);
  afterAll(() => reaper.close());

  it("with no address, runs one interactive shell on the console terminal", async () => {
    const [master, slave] = native().openPty();
    const slavePath = readlinkSync(`/proc/self/fd/${slave}`);
    try {
      const served = await startDebugConsole({
        enabled: true,
        vport: 0,
        addresses: [],
        allowVsockLoopback: false,
        reaper,
        log,
        consolePath: slavePath,
      });
      expect(served?.addresses).toEqual([slavePath]);
      writeSync(master, "echo serial-$((2+3)) on $(tty); exit\n");
      let output = "";
      const buf = Buffer.alloc(4096);
      while (!/serial-5 on \/dev\/pts\/\d+/.test(output)) {
        const n = readSync(master, buf);
        output += buf.subarray(0, n).toString();
      }
      expect(output).toContain(`serial-5 on ${slavePath}`);
      await expect
        .poll(() => lines.map((l) => l.msg))
        .toContain("debug console shell exited; it is not started again");
    } finally {
      closeSync(slave);
      closeSync(master);
    }
  });

  it("is off, with a warning, when only an address is given", async () => {
    const served = await startDebugConsole({
      enabled: false,
      vport: 1026,
      addresses: [],
      allowVsockLoopback: false,
      reaper,
      log,
    });
    expect(served).toBeUndefined();
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: "a debug console address is set but agent.debug_console is not: no debug console",
        addresses: ["vsock://-1:1026"],
      }),
    );
  });

  it("says so when the guest has no shell", async () => {
    const served = await startDebugConsole({
      enabled: true,
      vport: 0,
      addresses: [],
      allowVsockLoopback: false,
      reaper,
      log,
      shells: ["/nonexistent/bash", "/nonexistent/sh"],
    });
    expect(served).toBeUndefined();
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "error",
        msg: "no shell for the debug console; install bash or sh in the guest",
      }),
    );
  });
});
