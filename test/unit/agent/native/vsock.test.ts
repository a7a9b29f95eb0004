import { execFileSync } from "node:child_process";
import { closeSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { native, socketFd } from "../../../../agent/src/native/index.js";
import { buildVsockProbe, runVsockProbe } from "../../../helpers/vsock-probe.js";

beforeAll(() => {
  execFileSync(process.execPath, [new URL("../../../../agent/native/build.mjs", import.meta.url).pathname]);
});

const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

function fdFlags(fd: number): number {
  const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1];
  return Number.parseInt(flags ?? "", 8);
}

/** A port no other test of this run is likely to use: /dev/vsock ports are machine-wide. */
function freshPort(): number {
  return 20_000 + Math.floor(Math.random() * 40_000);
}

describe("vsockListen", () => {
  it("binds a non-blocking, close-on-exec listener, and a second bind of the port fails", () => {
    const port = freshPort();
    const fd = native().vsockListen(-1, port, 16);
    try {
      expect(fdFlags(fd) & (O_NONBLOCK | O_CLOEXEC)).toBe(O_NONBLOCK | O_CLOEXEC);
      expect(() => native().vsockListen(0xffffffff, port, 16)).toThrow(
        expect.objectContaining({
          code: "EADDRINUSE",
          errno: -98,
          syscall: "bind",
          message: "bind: EADDRINUSE (Address already in use)",
        }),
      );
    } finally {
      closeSync(fd);
    }
    // Closing released the port.
    closeSync(native().vsockListen(-1, port, 16));
  });

  it("refuses a CID this machine does not have", () => {
    expect(() => native().vsockListen(12345, freshPort(), 16)).toThrow(
      expect.objectContaining({ code: "EADDRNOTAVAIL", syscall: "bind" }),
    );
  });
});

describe("vsockConnect", () => {
  // This host has no vsock loopback transport: connecting to CID 1 never completes.
  it("gives up with ETIMEDOUT after the timeout", () => {
    const started = performance.now();
    expect(() => native().vsockConnect(1, freshPort(), 150)).toThrow(
      expect.objectContaining({ code: "ETIMEDOUT", errno: -110, syscall: "connect" }),
    );
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(1500); // the kernel's own 2 s default did not apply
  });
});

describe("vsockLocalCid", () => {
  it("reads the same CID as an independent C program's ioctl on /dev/vsock", () => {
    const probe = runVsockProbe(buildVsockProbe(), ["local-cid"]);
    expect(probe.exitCode).toBe(0);
    expect(native().vsockLocalCid()).toBe(Number(probe.outcome));
    // A machine's own CID is never one of the reserved ones (0 hypervisor, 1 local, 2 host).
    expect(native().vsockLocalCid()).toBeGreaterThan(2);
  });
});

describe("vsockPeer", () => {
  // This host has no vsock loopback, so no vsock connection can be made here; the address of a
  // real peer is checked inside the guest (the boot check's bridge and the vsock probe).
  it("fails with ENOTCONN on a listening socket, which has no peer", () => {
    const fd = native().vsockListen(-1, freshPort(), 1);
    try {
      expect(() => native().vsockPeer(fd)).toThrow(
        expect.objectContaining({ code: "ENOTCONN", syscall: "getpeername" }),
      );
    } finally {
      closeSync(fd);
    }
  });

  it("refuses a connected socket of another family (EAFNOSUPPORT)", async () => {
    const socketPath = path.join(process.env.TMPDIR ?? "/tmp", `peer-${process.pid}.sock`);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    const client = net.connect(socketPath);
    await new Promise((resolve) => client.once("connect", resolve));
    try {
      expect(() => native().vsockPeer(socketFd(client))).toThrow(
        expect.objectContaining({ code: "EAFNOSUPPORT", syscall: "getpeername" }),
      );
    } finally {
      client.destroy();
      server.close();
    }
  });
});
