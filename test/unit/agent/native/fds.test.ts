import { execFileSync, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isatty } from "node:tty";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { native, socketFd } from "../../../../agent/src/native/index.js";

beforeAll(() => {
  execFileSync(process.execPath, [new URL("../../../../agent/native/build.mjs", import.meta.url).pathname]);
});

const O_CLOEXEC = 0o2000000;
const dir = mkdtempSync(join(tmpdir(), "kata-native-fds-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function isCloexec(fd: number): boolean {
  const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1];
  return (Number.parseInt(flags ?? "0", 8) & O_CLOEXEC) !== 0;
}

describe("pipe + setPipeSize", () => {
  it("makes a close-on-exec pipe whose size the kernel rounds up", () => {
    const [r, w] = native().pipe();
    try {
      expect(isCloexec(r) && isCloexec(w)).toBe(true);
      writeSync(w, "ping");
      const buf = Buffer.alloc(16);
      expect(buf.toString("utf8", 0, readSync(r, buf))).toBe("ping");
      expect(native().setPipeSize(w, 5000)).toBe(8192); // two pages
      expect(native().setPipeSize(r, 1 << 20)).toBe(1 << 20);
    } finally {
      closeSync(r);
      closeSync(w);
    }
  });

  it("fails on something that is not a pipe", () => {
    const fd = openSync("/dev/null", "r");
    try {
      expect(() => native().setPipeSize(fd, 65536)).toThrow(
        expect.objectContaining({ code: "EBADF", syscall: "fcntl" }),
      );
    } finally {
      closeSync(fd);
    }
  });
});

describe("recvFd", () => {
  /** A unix socket server that leaves accepted connections unread, as a console socket must. */
  async function consoleSocket(
    name: string,
  ): Promise<{ path: string; next: () => Promise<net.Socket>; close: () => void }> {
    const path = join(dir, name);
    const server = net.createServer({ pauseOnConnect: true });
    server.listen(path);
    await once(server, "listening");
    return {
      path,
      next: async () => (await once(server, "connection"))[0] as net.Socket,
      close: () => server.close(),
    };
  }

  /** Debian's python sends one message on the socket; with `fdPath`, the opened file rides along. */
  function pythonSend(socketPath: string, fdPath?: string): void {
    const code = [
      "import os, socket, sys",
      "s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])",
      "fds = [os.open(sys.argv[2], os.O_RDONLY)] if len(sys.argv) > 2 else []",
      "socket.send_fds(s, [b'/dev/pts/9'], fds)",
    ].join("\n");
    spawn("/usr/bin/python3", ["-c", code, socketPath, ...(fdPath ? [fdPath] : [])], { stdio: "inherit" });
  }

  it("receives an fd sent with SCM_RIGHTS, close-on-exec", async () => {
    const server = await consoleSocket("console.sock");
    const payload = join(dir, "payload");
    writeFileSync(payload, "came through SCM_RIGHTS");
    pythonSend(server.path, payload);
    const conn = await server.next();
    const fd = native().recvFd(socketFd(conn), 5000);
    try {
      expect(isCloexec(fd)).toBe(true);
      expect(readFileSync(fd, "utf8")).toBe("came through SCM_RIGHTS");
    } finally {
      closeSync(fd);
      conn.destroy();
      server.close();
    }
  });

  it("reports a message without an fd as ENOMSG, and silence as ETIMEDOUT", async () => {
    const server = await consoleSocket("empty.sock");
    const quiet = net.createConnection(server.path);
    const quietConn = await server.next();
    const started = performance.now();
    expect(() => native().recvFd(socketFd(quietConn), 100)).toThrow(
      expect.objectContaining({ code: "ETIMEDOUT", syscall: "recvmsg" }),
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    pythonSend(server.path);
    const conn = await server.next();
    expect(() => native().recvFd(socketFd(conn), 5000)).toThrow(
      expect.objectContaining({ code: "ENOMSG", syscall: "recvmsg" }),
    );
    for (const s of [quiet, quietConn, conn]) s.destroy();
    server.close();
  });
});

describe("openPty + setWinsize", () => {
  it("makes a pty pair whose window size reads back through the slave", () => {
    const [master, slave] = native().openPty();
    try {
      expect(isatty(master) && isatty(slave)).toBe(true);
      expect(isCloexec(master) && isCloexec(slave)).toBe(true);
      native().setWinsize(master, 33, 101);
      const stty = spawnSync("stty", ["size"], { stdio: [slave, "pipe", "pipe"], encoding: "utf8" });
      expect(stty.stderr).toBe("");
      expect(stty.stdout.trim()).toBe("33 101");
    } finally {
      closeSync(master);
      closeSync(slave);
    }
  });

  it("refuses a window size on a non-tty", () => {
    const fd = openSync("/dev/null", "r");
    try {
      expect(() => native().setWinsize(fd, 24, 80)).toThrow(expect.objectContaining({ code: "ENOTTY" }));
    } finally {
      closeSync(fd);
    }
  });
});
