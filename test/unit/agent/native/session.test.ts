// spawnInSession starts a program as the leader of a new session on a terminal (the debug
// console's shell); sendDatagram sends one Unix datagram (sd_notify). Both checked with real
// processes: the child's own /proc entries, and Debian's Python as the datagram receiver.
import { execFileSync, spawn } from "node:child_process";
import { closeSync, fstatSync, readSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { native, type WaitStatus } from "../../../../agent/src/native/index.js";

beforeAll(() => {
  execFileSync(process.execPath, [new URL("../../../../agent/native/build.mjs", import.meta.url).pathname]);
});

/** Everything the master end of a pty yields until its slave side is closed (EIO). */
function readAll(master: number): string {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(4096);
  for (;;) {
    let n: number;
    try {
      n = readSync(master, buf);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EIO") break;
      throw err;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString();
}

function waitFor(pid: number): WaitStatus {
  for (let i = 0; i < 500; i++) {
    const status = native().waitpid(pid);
    if (status) return status;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
  throw new Error(`pid ${pid} did not exit`);
}

describe("spawnInSession", () => {
  it("starts a session leader whose controlling terminal, stdio and signals are as a login's", () => {
    const n = native();
    const [master, slave] = n.openPty();
    const slaveDevice = fstatSync(slave).rdev;
    // stat fields after the command: state ppid pgrp session tty_nr tpgid ...
    const script = 'echo "pid=$$ stat=$(cut -d")" -f2 /proc/$$/stat)"; tty; echo "env=$SESSION_TEST"';
    const pid = n.spawnInSession(
      "/bin/sh",
      ["sh", "-c", script],
      ["SESSION_TEST=passed", "PATH=/usr/bin:/bin"],
      slave,
    );
    closeSync(slave);
    const output = readAll(master);
    closeSync(master);
    expect(waitFor(pid)).toMatchObject({ pid, exitCode: 0 });

    const [, state, ppid, pgrp, session, ttyNr, tpgid] =
      /stat= (\S) (\d+) (\d+) (\d+) (\d+) (-?\d+)/.exec(output) ?? [];
    expect(state).toBeDefined();
    expect(Number(ppid)).toBe(process.pid);
    expect(Number(session)).toBe(pid); // a new session, led by the child
    expect(Number(pgrp)).toBe(pid);
    expect(Number(ttyNr)).toBe(slaveDevice); // its controlling terminal is the pty
    expect(Number(tpgid)).toBe(pid); // and it is the terminal's foreground group
    expect(output).toMatch(/\/dev\/pts\/\d+/);
    expect(output).toContain("env=passed");
  });

  it("starts the program with no signal ignored or blocked (Node ignores SIGPIPE)", () => {
    const n = native();
    const [master, slave] = n.openPty();
    // grep reads its own masks: what spawnInSession left, which execve keeps.
    const pid = n.spawnInSession(
      "/bin/grep",
      ["grep", "-E", "^Sig(Ign|Blk):", "/proc/self/status"],
      [],
      slave,
    );
    closeSync(slave);
    const output = readAll(master);
    closeSync(master);
    expect(waitFor(pid)).toMatchObject({ exitCode: 0 });
    expect(output).toMatch(/SigBlk:\s+0+\r?\n/);
    expect(output).toMatch(/SigIgn:\s+0+\r?\n/);
  });

  it("reports a program that cannot be run as exit status 127, from the child", () => {
    const n = native();
    const [master, slave] = n.openPty();
    const pid = n.spawnInSession("/nonexistent/shell", ["shell"], [], slave);
    closeSync(slave);
    closeSync(master);
    expect(waitFor(pid)).toMatchObject({ exitCode: 127 });
  });

  it("checks its arguments before forking", () => {
    expect(() => native().spawnInSession("/bin/sh", "sh" as unknown as string[], [], 0)).toThrow(
      /argv must be an array of strings/,
    );
  });
});

describe("sendDatagram", () => {
  const receiver = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1].replace("@", "\\0", 1))
print("ready", flush=True)
s.settimeout(10)
print(s.recv(4096).decode(), end="", flush=True)
`;

  async function receiveOne(address: string, send: () => void): Promise<string> {
    const child = spawn("/usr/bin/python3", ["-c", receiver, address], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      if (out === "ready\n") send();
    });
    await new Promise((resolve) => child.on("close", resolve));
    return out.slice("ready\n".length);
  }

  it("delivers one datagram to a socket path and to an abstract name", async () => {
    const file = path.join(process.env.TMPDIR ?? "/tmp", "notify.sock");
    expect(await receiveOne(file, () => native().sendDatagram(file, "READY=1\nSTATUS=up\n"))).toBe(
      "READY=1\nSTATUS=up\n",
    );
    const abstract = `@kata-notify-test-${process.pid}`;
    expect(await receiveOne(abstract, () => native().sendDatagram(abstract, "STOPPING=1\n"))).toBe(
      "STOPPING=1\n",
    );
  });

  it("fails like sendto(2) when nobody listens", () => {
    expect(() =>
      native().sendDatagram(path.join(process.env.TMPDIR ?? "/tmp", "none.sock"), "READY=1"),
    ).toThrow(expect.objectContaining({ code: "ENOENT", syscall: "sendto" }));
  });
});
