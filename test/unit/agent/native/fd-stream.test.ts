import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, mkdtempSync, readSync, rmSync, writeSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listenOnFd, native, socketFd, socketFromFd } from "../../../../agent/src/native/index.js";

beforeAll(() => {
  execFileSync(process.execPath, [new URL("../../../../agent/native/build.mjs", import.meta.url).pathname]);
});

const dir = mkdtempSync(join(tmpdir(), "kata-native-stream-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function readAll(socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("socketFromFd", () => {
  it("streams 1 MiB through a pipe, each end one-way", async () => {
    const [r, w] = native().pipe();
    const reader = socketFromFd(r);
    const writer = socketFromFd(w);
    expect([reader.readable, reader.writable, writer.readable, writer.writable]).toEqual([
      true,
      false,
      false,
      true,
    ]);
    const data = Buffer.alloc(1 << 20).map((_, i) => i % 251);
    const writerClosed = once(writer, "close");
    writer.end(data);
    const received = await readAll(reader);
    expect(received.equals(data)).toBe(true);
    await writerClosed; // and the write end was closed, or the reader would not have seen EOF
  });

  it("wraps a pty master, which net.Socket itself rejects", async () => {
    const [master, slave] = native().openPty();
    expect(() => new net.Socket({ fd: master })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_FD_TYPE" }),
    );
    const socket = socketFromFd(master);
    try {
      const data = once(socket, "data");
      writeSync(slave, "from slave\n");
      expect(String((await data)[0])).toBe("from slave\r\n"); // the line discipline's ONLCR
      await new Promise((resolve) => socket.write("from master\n", resolve));
      const buf = Buffer.alloc(64);
      expect(buf.toString("utf8", 0, readSync(slave, buf))).toBe("from master\n");
    } finally {
      socket.destroy();
      closeSync(slave);
    }
  });

  it("throws a Node-shaped error for a bad fd and leaves it to the caller", () => {
    expect(() => socketFromFd(0x7fff_0000)).toThrow(
      expect.objectContaining({ code: "EBADF", errno: -9, syscall: "uv_pipe_open" }),
    );
  });
});

describe("listenOnFd", () => {
  it("serves a vsock listener and releases its port on close", async () => {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    const fd = native().vsockListen(-1, port, 16);
    expect(() => new net.Socket({ fd })).toThrow(expect.objectContaining({ code: "ERR_INVALID_FD_TYPE" }));
    const listener = listenOnFd(fd, () => {});
    await listener.close();
    await listener.close(); // idempotent
    // Nothing holds the port any more: the fd was closed with the handle.
    closeSync(native().vsockListen(-1, port, 16));
  });

  // vsock cannot connect on this host, so prove the accept path with a unix listener that, like a
  // vsock one, reaches us as a bare fd: Debian's python creates it and passes it over SCM_RIGHTS.
  it("hands each accepted connection to the callback as a net.Socket", async () => {
    const console = net.createServer({ pauseOnConnect: true }).listen(join(dir, "pass.sock"));
    await once(console, "listening");
    const listenPath = join(dir, "listen.sock");
    const code = [
      "import socket, sys",
      "l = socket.socket(socket.AF_UNIX); l.bind(sys.argv[2]); l.listen(8)",
      "s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])",
      "socket.send_fds(s, [b'listener'], [l.fileno()])",
    ].join("\n");
    spawn("/usr/bin/python3", ["-c", code, join(dir, "pass.sock"), listenPath], { stdio: "inherit" });
    const [passing] = (await once(console, "connection")) as [net.Socket];
    const fd = native().recvFd(socketFd(passing), 5000);
    passing.destroy();
    console.close();

    const listener = listenOnFd(fd, (socket) => socket.pipe(socket)); // echo
    try {
      for (const text of ["first", "second"]) {
        const client = net.createConnection(listenPath);
        client.end(text);
        expect(String(await readAll(client))).toBe(text);
      }
    } finally {
      await listener.close();
    }
  });
});
